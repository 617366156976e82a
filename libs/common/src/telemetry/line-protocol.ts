import type { IncomingPoint } from '../messages/telemetry.js';
import { LineSyntaxError } from './line-protocol-errors.js';
import { Scanner } from './line-protocol-scanner.js';
import { TIME_BOUND } from './line-protocol-values.js';

/*
 * InfluxDB line protocol → Plexus points, for `POST /api/v2/write` and `POST /write`.
 *
 *   measurement[,tag_key=tag_value...] field_key=field_value[,field_key=field_value...] [timestamp]
 *
 * A hand-written single pass over the body (charCodeAt, slices of the body, no regex per value):
 * this is the gateway's hot path. Lines of one series repeat their measurement and tags, so those
 * are parsed once per body and found again by hash (as are field keys → metric names); plain
 * numbers and timestamps are read without Number(). Work is linear in the body: every character
 * is looked at a bounded number of times, the caches are bounded, duplicate checks use a Map past
 * a few keys, and a line never looks past its own newline. Every problem becomes a LineError for
 * its line; other lines still parse (InfluxDB's partial writes). Points of one series share one
 * `tags` object (read-only downstream). Behaviour where the reference leaves room, chosen here:
 *
 * - A raw newline inside a quoted string field value is refused (the string is "not closed on
 *   this line"): lines are split on every `\n`, so a stray quote can never swallow the lines after
 *   it. InfluxDB 1.x/2.x accept such newlines, although their reference says line protocol does
 *   not support them. Inside strings only `\"` and `\\` are escapes; `\n` stays a backslash and an n.
 * - A field key repeated in one line: the last value wins, at the first key's place (InfluxDB's
 *   storage keeps the last; IOx does the same).
 * - A tag with an empty value, a repeated tag key, a line without fields, an empty measurement,
 *   tag key or field key, a field without value: errors (as InfluxDB).
 * - Integers (`i`) outside int64 and unsigned (`u`) outside uint64 are errors (out of range);
 *   floats that overflow a double (`1e400`), NaN and Infinity are errors. Integers beyond ±2^53
 *   are accepted and become the nearest double.
 * - Timestamps must lie in InfluxDB's range (±9223372036854775806 ns once scaled by the
 *   precision). They become Unix seconds with a microsecond fraction; nanoseconds are truncated
 *   toward negative infinity to the microsecond. Negative times are mapped too (the ingest
 *   schema refuses them afterwards).
 * - NUL and lone surrogates anywhere in a line are an error for that line (PostgreSQL cannot
 *   store them), so one such line does not make validateIngestBody refuse the whole body.
 *
 * This file splits the body into lines and collects points and errors; line-protocol-scanner.ts
 * reads a line's measurement, tags and fields, line-protocol-values.ts the field values and the
 * timestamp, and line-protocol-errors.ts holds the syntax error they throw.
 */

// Character codes, declared in each file that compares with them: V8 folds a module's own
// constants into the compiled code, not imported ones (the bench lost 10-15 % with imports).
const TAB = 9;
const CR = 13;
const SPACE = 32;
const HASH = 35;

export type Precision = 'ns' | 'us' | 'ms' | 's';

export interface LineProtocolOptions {
  precision: Precision;
  /** Tag naming the source; undefined → 'host', then 'source', else the measurement. */
  sourceTag?: string;
  /** Every point gets this session_id when set (the bucket/db as a session). */
  sessionId?: string;
}

export interface LineError {
  /** 1-based line number in the body. */
  line: number;
  message: string;
}

export interface ParsedLines {
  points: IncomingPoint[];
  errors: LineError[];
  /** Non-empty, non-comment lines. */
  lines: number;
  /** The 1-based line of each point (index i of `points`). */
  pointLines: number[];
}

/** NUL or a lone surrogate; with the u flag a surrogate pair is one code point and does not match. */
const UNSTORABLE = /[\u0000\uD800-\uDFFF]/u;
/**
 * Cheaper first look at the whole body: any surrogate, pairs (emoji) included, then UNSTORABLE
 * decides. V8 answers at once for a one-byte string, which cannot hold one; NUL is left to indexOf.
 */
const SURROGATE = /[\uD800-\uDFFF]/;

/** Parses a line protocol body; never throws. See the comment at the top of this file. */
export function parseLineProtocol(body: string, options: LineProtocolOptions): ParsedLines {
  const points: IncomingPoint[] = [];
  const pointLines: number[] = [];
  const errors: LineError[] = [];
  let lines = 0;
  if (typeof body !== 'string') return { points, errors: [{ line: 1, message: 'the body must be text' }], lines: 0, pointLines };
  if (!Object.prototype.hasOwnProperty.call(TIME_BOUND, options.precision)) {
    // A programming error, not bad input: the caller validates the precision query parameter.
    throw new TypeError(`unknown precision ${String(options.precision)}: expected ns, us, ms or s`);
  }
  // One native pass over the body; per-line checks only when something unstorable is present.
  const checkStorable = body.indexOf('\u0000') !== -1 || (SURROGATE.test(body) && UNSTORABLE.test(body));
  const scanner = new Scanner(body, options, points);
  const length = body.length;
  let lineNumber = 0;
  let start = 0;
  while (start <= length) {
    lineNumber++;
    let newline = body.indexOf('\n', start);
    if (newline === -1) newline = length;
    let end = newline;
    if (end > start && body.charCodeAt(end - 1) === CR) end--;
    let first = start;
    while (first < end) {
      const c = body.charCodeAt(first);
      if (c !== SPACE && c !== TAB) break;
      first++;
    }
    if (first < end && body.charCodeAt(first) !== HASH) {
      lines++;
      if (checkStorable && UNSTORABLE.test(body.slice(first, end))) {
        errors.push({ line: lineNumber, message: unstorableMessage(body, start, end) });
      } else {
        const mark = points.length;
        try {
          scanner.parseLine(first, end);
          for (let i = mark; i < points.length; i++) pointLines.push(lineNumber);
        } catch (error) {
          points.length = mark;
          // Columns count from the line's first character, blanks included.
          const message =
            error instanceof LineSyntaxError ? `column ${error.at - start + 1}: ${error.what}` : `internal parser error: ${String(error)}`;
          errors.push({ line: lineNumber, message });
        }
      }
    }
    start = newline + 1;
  }
  return { points, errors, lines, pointLines };
}

function unstorableMessage(body: string, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    const c = body.charCodeAt(i);
    if (c === 0) return `column ${i - start + 1}: NUL (\\u0000) characters cannot be stored`;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
      const next = body.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) return `column ${i - start + 1}: the text must be valid Unicode (a lone surrogate was found)`;
  }
  return 'the text must be valid Unicode';
}
