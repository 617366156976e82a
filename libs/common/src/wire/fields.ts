import Type, { type TSchema } from 'typebox';
import { PRINTABLE_PATTERN, REALTIME_LIMITS, SOURCE_ID_PATTERN } from './limits.js';

/*
 * Field types of the wire. Two annotations besides JSON Schema, both read by the validator
 * (validate.ts): `refusal`, the reason a refused field is given after its name, and
 * `maxJsonBytes`, a bound on a value's size as JSON.
 */

/** 1 to `max` characters, well-formed Unicode, no control character (NUL included). */
export function printable(max: number) {
  return Type.String({ minLength: 1, maxLength: max, pattern: PRINTABLE_PATTERN, refusal: `must be 1 to ${max} printable characters` });
}

/** The value, or null (which the platform reads as absent). */
export function nullable<T extends TSchema>(schema: T) {
  return Type.Union([Type.Null(), schema], { refusal: (schema as { refusal?: string }).refusal });
}

/** `id` of a command or `output`, and `session_id`. */
export const Id = printable(REALTIME_LIMITS.maxIdLength);

export const Name = printable(REALTIME_LIMITS.maxNameLength);

export const SourceId = Type.String({ pattern: SOURCE_ID_PATTERN, refusal: 'must be a valid source id' });

/** A device token or an API key as a frame carries it; what it is worth is the pairing app's to say. */
export const Credential = Type.String({
  minLength: 1,
  maxLength: REALTIME_LIMITS.maxCredentialLength,
  refusal: `must be a credential of 1 to ${REALTIME_LIMITS.maxCredentialLength} characters`,
});

/** `metrics` of start_stream and start_session: none means all. */
export const Metrics = Type.Array(printable(REALTIME_LIMITS.maxMetricLength), {
  maxItems: REALTIME_LIMITS.maxMetrics,
  refusal: `must be a list of at most ${REALTIME_LIMITS.maxMetrics} names`,
});

export const IntervalMs = Type.Number({
  minimum: 0,
  maximum: REALTIME_LIMITS.maxIntervalMs,
  refusal: `must be a number from 0 to ${REALTIME_LIMITS.maxIntervalMs}`,
});

/** Any JSON object (not an array, not null); the platform keeps or forwards it as it came. */
export const JsonObject = Type.Object({}, { refusal: 'must be an object' });
