import { Ajv, type ErrorObject } from 'ajv';
import type { ErrorDetail } from '../errors.js';
import type { IncomingPoint } from '../messages/telemetry.js';
import { SOURCE_ID_PATTERN } from '../wire/limits.js';

/** Limits of `POST /api/ingest` (CONTRACT.md), plus the ones it leaves open, listed in docs/api.md ("POST /api/ingest"). */
export const INGEST_LIMITS = {
  maxPoints: 10_000,
  maxBodyBytes: 5 * 1024 * 1024,
  maxMetricLength: 256,
  maxStructuredValueBytes: 64 * 1024,
  maxStringValueLength: 64 * 1024,
  maxTags: 32,
  maxTagKeyLength: 128,
  maxTagValueLength: 1024,
  maxSessionIdLength: 128,
  /** 9999-12-31T23:59:59.999Z in milliseconds. */
  maxTimestampMs: 253_402_300_799_999,
  /** A timestamp at or above this is read as milliseconds, below as seconds. */
  millisecondsFrom: 1e11,
} as const;

/*
 * Ajv compiles patterns with the `u` flag, where a surrogate pair is one code point: the
 * class \uD800-\uDFFF matches exactly the lone surrogates, which PostgreSQL refuses.
 */
const PRINTABLE = '^[^\\u0000-\\u001F\\u007F\\uD800-\\uDFFF]*$';
/** PostgreSQL text and jsonb cannot hold NUL or lone surrogates. */
const STORABLE = '^[^\\u0000\\uD800-\\uDFFF]*$';
/** `\u0000` in JSON text, not preceded by an escaped backslash. */
const ESCAPED_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;
/** A lone surrogate in JSON.stringify's output, which escapes exactly those (`\udXXX`). */
const ESCAPED_LONE_SURROGATE = /(?:^|[^\\])(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/i;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const NOT_UNICODE = 'must be valid Unicode (no lone surrogates)';

const pointSchema = {
  type: 'object',
  required: ['metric', 'value', 'source_id'],
  properties: {
    metric: { type: 'string', minLength: 1, maxLength: INGEST_LIMITS.maxMetricLength, pattern: PRINTABLE },
    value: {
      type: ['number', 'string', 'boolean', 'object', 'array'],
      maxLength: INGEST_LIMITS.maxStringValueLength,
      pattern: STORABLE,
    },
    timestamp: { type: 'number', minimum: 0, maximum: INGEST_LIMITS.maxTimestampMs },
    source_id: { type: 'string', pattern: SOURCE_ID_PATTERN },
    tags: {
      type: 'object',
      maxProperties: INGEST_LIMITS.maxTags,
      propertyNames: { minLength: 1, maxLength: INGEST_LIMITS.maxTagKeyLength, pattern: STORABLE },
      additionalProperties: { type: ['string', 'number', 'boolean'], maxLength: INGEST_LIMITS.maxTagValueLength, pattern: STORABLE },
    },
    session_id: { type: 'string', minLength: 1, maxLength: INGEST_LIMITS.maxSessionIdLength, pattern: PRINTABLE },
  },
} as const;

export const ingestBodySchema = {
  type: 'object',
  required: ['points'],
  properties: {
    points: { type: 'array', minItems: 1, maxItems: INGEST_LIMITS.maxPoints, items: pointSchema },
  },
} as const;

// verbose: a refused string comes with the error, to tell NUL from a lone surrogate.
const ajv = new Ajv({ allErrors: false, strict: false, verbose: true });
const validateBody = ajv.compile<{ points: IncomingPoint[] }>(ingestBodySchema);

const FRIENDLY: Record<string, (e: ErrorObject) => string | undefined> = {
  type: (e) =>
    e.instancePath.endsWith('/value')
      ? 'must be a number, string, boolean, object or array (not null)'
      : `must be ${String(e.params.type).replace(/,/g, ' or ')}`,
  required: () => 'is required',
  pattern: (e) => {
    const text = typeof e.data === 'string' ? e.data : '';
    if (e.params.pattern === STORABLE && text.includes('\u0000')) return 'must not contain NUL (\\u0000) characters';
    if (LONE_SURROGATE.test(text)) return NOT_UNICODE;
    if (e.instancePath.endsWith('/source_id'))
      return 'must start with a letter or digit and hold up to 128 letters, digits, ".", "_", ":" or "-"';
    return e.params.pattern === STORABLE ? 'must not contain NUL (\\u0000) characters' : 'must hold printable characters only';
  },
  maxItems: () => `must hold at most ${INGEST_LIMITS.maxPoints} points`,
  minItems: () => 'must hold at least one point',
  maximum: (e) => (e.instancePath.endsWith('/timestamp') ? 'must be Unix seconds or milliseconds before the year 10000' : undefined),
  minimum: (e) => (e.instancePath.endsWith('/timestamp') ? 'must not be negative' : undefined),
};

function toDetail(error: ErrorObject): ErrorDetail {
  const segments = error.instancePath.split('/').slice(1);
  if (error.keyword === 'required') segments.push(String(error.params.missingProperty));
  // A bad tag key: Ajv names it on the error itself.
  const propertyName = (error as ErrorObject & { propertyName?: string }).propertyName;
  if (propertyName !== undefined) segments.push(propertyName);
  let index: number | undefined;
  let fieldSegments = segments;
  if (segments[0] === 'points' && segments.length > 1 && /^\d+$/.test(segments[1])) {
    index = Number(segments[1]);
    fieldSegments = segments.slice(2);
  }
  const field = fieldSegments.length ? fieldSegments.join('.') : (segments[0] ?? 'body');
  const reason = FRIENDLY[error.keyword]?.(error) ?? error.message ?? 'is invalid';
  const where = index === undefined ? field : `points[${index}].${field}`;
  return { ...(index === undefined ? {} : { index }), field, message: `${where} ${reason}` };
}

export type IngestValidation =
  | { ok: true; points: IncomingPoint[] }
  | { ok: false; detail: ErrorDetail; /** more points than a request may carry: 413, not 400 */ tooLarge: boolean };

/** Validates a whole ingest body; the first problem found is named by point index and field. */
export function validateIngestBody(body: unknown): IngestValidation {
  if (!validateBody(body)) {
    const error = validateBody.errors?.[0];
    const tooLarge = error?.keyword === 'maxItems' && error.instancePath === '/points';
    return { ok: false, tooLarge, detail: error ? toDetail(error) : { field: 'body', message: 'body is invalid' } };
  }
  const points = body.points;
  for (let index = 0; index < points.length; index++) {
    const value = points[index].value;
    if (typeof value !== 'object') continue;
    const json = JSON.stringify(value);
    if (Buffer.byteLength(json) > INGEST_LIMITS.maxStructuredValueBytes) {
      return {
        ok: false,
        tooLarge: false,
        detail: { index, field: 'value', message: `points[${index}].value is larger than 64 KiB as JSON` },
      };
    }
    if (ESCAPED_NUL.test(json)) {
      return {
        ok: false,
        tooLarge: false,
        detail: { index, field: 'value', message: `points[${index}].value must not contain NUL (\\u0000) characters` },
      };
    }
    if (ESCAPED_LONE_SURROGATE.test(json)) {
      return { ok: false, tooLarge: false, detail: { index, field: 'value', message: `points[${index}].value ${NOT_UNICODE}` } };
    }
  }
  return { ok: true, points };
}

/** A point's time in Unix microseconds: seconds or milliseconds by magnitude, server time when absent. */
export function pointTimeMicros(timestamp: number | undefined, receivedAtUs: number): number {
  if (timestamp === undefined) return receivedAtUs;
  return timestamp >= INGEST_LIMITS.millisecondsFrom ? Math.round(timestamp * 1000) : Math.round(timestamp * 1e6);
}
