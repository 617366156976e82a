import { ValidationError } from './errors.js';

export type PointValue = number | string | boolean | Record<string, unknown> | unknown[];
export type Tags = Record<string, string | number | boolean>;
/** Unix seconds (a number ≥ 1e11 is taken as milliseconds, as the server does) or a Date. */
export type Timestamp = number | Date;

export interface SendOptions {
  timestamp?: Timestamp;
  tags?: Tags;
  sessionId?: string;
}

export interface PointInput extends SendOptions {
  metric: string;
  value: PointValue;
}

/** A point for `sendBatch`: the full form, or `[metric, value]` stamped now. */
export type BatchPoint = PointInput | [metric: string, value: PointValue];

/** A point as `POST /api/ingest` takes it. */
export interface WirePoint {
  metric: string;
  value: PointValue;
  timestamp: number;
  source_id: string;
  tags?: Tags;
  session_id?: string;
}

export const MAX_POINTS_PER_REQUEST = 10_000;
/** The server measures its 5 MiB after decompression, so the JSON text is what must fit. */
export const MAX_BODY_BYTES = 5 * 1024 * 1024;
const MILLISECONDS_FROM = 1e11;

export function toSeconds(timestamp: Timestamp): number {
  const number = timestamp instanceof Date ? timestamp.getTime() : timestamp;
  if (typeof number !== 'number' || !Number.isFinite(number) || number < 0) {
    throw new ValidationError(`timestamp must be Unix seconds ≥ 0 or a valid Date, got ${String(timestamp)}`);
  }
  // Date.getTime() is integer milliseconds, so dividing keeps exactly millisecond precision.
  if (timestamp instanceof Date || number >= MILLISECONDS_FROM) return number / 1000;
  return number;
}

/**
 * Stamps the point now rather than leaving it to the server: a queued point may wait up to
 * flushIntervalMs and a retry many seconds more, and the time of the reading is what matters.
 */
export function toWirePoint(input: PointInput, sourceId: string, nowMs: number = Date.now()): WirePoint {
  const { metric, value } = input;
  if (typeof metric !== 'string' || metric.length < 1 || metric.length > 256) {
    throw new ValidationError(`metric must be a string of 1 to 256 characters, got ${JSON.stringify(metric)}`);
  }
  // Checked here because the server refuses a request whole: one NaN from a flaky sensor
  // would otherwise take the other points of its batch down with it.
  if (!isSendable(value)) {
    throw new ValidationError(`value of "${metric}" must be a finite number, string, boolean, object or array, got ${String(value)}`);
  }
  const point: WirePoint = {
    metric,
    value,
    timestamp: input.timestamp === undefined ? nowMs / 1000 : toSeconds(input.timestamp),
    source_id: sourceId,
  };
  if (input.tags !== undefined) point.tags = input.tags;
  if (input.sessionId !== undefined) point.session_id = input.sessionId;
  return point;
}

export function fromBatchPoint(point: BatchPoint): PointInput {
  return Array.isArray(point) ? { metric: point[0], value: point[1] } : point;
}

function isSendable(value: unknown): value is PointValue {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value);
    case 'string':
    case 'boolean':
      return true;
    case 'object':
      return value !== null;
    default:
      return false;
  }
}

/** One request's worth of points, already serialised (so a retry re-sends the same bytes). */
export interface IngestBody {
  count: number;
  json: string;
}

/**
 * Cuts points into request bodies the server accepts: at most 10,000 points and 5 MiB of JSON
 * each. A body over 5 MiB is halved until it fits; a single point that alone is too large is
 * sent anyway and the server's 413 says why.
 */
export function ingestBodies(points: WirePoint[]): IngestBody[] {
  const bodies: IngestBody[] = [];
  const add = (chunk: WirePoint[]): void => {
    const json = JSON.stringify({ points: chunk });
    if (chunk.length > 1 && Buffer.byteLength(json) > MAX_BODY_BYTES) {
      const half = Math.ceil(chunk.length / 2);
      add(chunk.slice(0, half));
      add(chunk.slice(half));
      return;
    }
    bodies.push({ count: chunk.length, json });
  };
  for (let start = 0; start < points.length; start += MAX_POINTS_PER_REQUEST) {
    add(points.slice(start, start + MAX_POINTS_PER_REQUEST));
  }
  return bodies;
}
