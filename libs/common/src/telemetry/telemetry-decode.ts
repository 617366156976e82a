import { isUtf8 } from 'node:buffer';
import type { IncomingPoint } from '../messages/telemetry.js';
import { INGEST_LIMITS, validateIngestBody } from './ingest-schema.js';
import { canonicalTags, type SeriesPoints } from './series-points.js';
import {
  BATCH_MAGIC,
  KIND_JSON,
  KIND_NUMBER,
  MIN_POINT,
  NUMERIC_POINT,
  type TelemetryBatch,
  TelemetryDecodeError,
} from './telemetry-batch.js';

/** Latest time a point may carry (INGEST_LIMITS' last millisecond of 9999), in microseconds. */
const MAX_TIME_US = INGEST_LIMITS.maxTimestampMs * 1000;

/** Who a series is: the strings of its header in a binary telemetry message, checked. */
export interface SeriesIdentity {
  sourceId: string;
  metric: string;
  /** '' when the points belong to no session. */
  sessionId: string;
  /** Canonical JSON, '' for none. */
  tags: string;
}

/**
 * Series headers already checked, by their bytes: the same few series come in message after
 * message, and reading a header's four strings (a UTF-8 check and a decode each) and checking
 * them against the schema cost more than all of its points. A header's bytes are its identity,
 * so a hit needs neither. Bounded by entries and by bytes (a header with 32 tags of 1 KiB values
 * is ~37 KiB, and a sender choosing new series at will must not make it hold more): past either
 * bound it starts again (it is only a cache).
 */
export class SeriesIdentities {
  private readonly known = new Map<string, SeriesIdentity | TelemetryDecodeError>();
  private bytes = 0;

  constructor(
    private readonly limit = 10_000,
    /** Header bytes held at most; each is held about three times over (the key, the identity's strings). */
    private readonly maxBytes = 4 * 1024 * 1024,
  ) {}

  /** The identity whose header is b[from, to), checked on first sight; throws for a header that fails. */
  of(b: Buffer, from: number, to: number, read: () => SeriesIdentity): SeriesIdentity {
    const key = b.toString('latin1', from, to);
    let found = this.known.get(key);
    if (found === undefined) {
      try {
        found = read();
      } catch (error) {
        if (!(error instanceof TelemetryDecodeError)) throw error;
        found = error;
      }
      if (this.known.size >= this.limit || this.bytes + key.length > this.maxBytes) {
        this.known.clear();
        this.bytes = 0;
      }
      this.known.set(key, found);
      this.bytes += key.length;
    }
    if (found instanceof TelemetryDecodeError) throw found;
    return found;
  }
}

/** The cache decodeTelemetryBatch uses when none is given: one per process. */
const processIdentities = new SeriesIdentities();

/**
 * One series of a scanned message: who it is, where its points are, and what its numbers span,
 * so a reader that only needs the span (the alerts app's quiet runs) never materialises a point.
 */
export interface ScannedSeries extends SeriesIdentity {
  bytes: Buffer;
  /** Offset of the first point in `bytes`, and how many points follow. */
  pointsAt: number;
  count: number;
  /** Over the numeric points only: how many, smallest and largest value, latest time (µs). numbers 0: none. */
  numbers: number;
  min: number;
  max: number;
  latestUs: number;
  /** Filled only when the scan was asked to materialise (else pointsOf reads them from `bytes`). */
  points?: Pick<SeriesPoints, 'timesUs' | 'nums' | 'jsons'>;
}

export interface ScannedBatch {
  orgId: string;
  receivedAtUs: number;
  series: ScannedSeries[];
}

/**
 * Reads a binary telemetry message, checking every length and every value as the gateway would
 * have: a message that fails throws TelemetryDecodeError. Series without points are left out.
 * With `materialise`, each series' points are also read into column arrays in the same pass.
 */
export function scanTelemetryBatch(bytes: Uint8Array, identities: SeriesIdentities = processIdentities, materialise = false): ScannedBatch {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = new Reader(b);
  if (b.length < 4 || !BATCH_MAGIC.equals(b.subarray(0, 4))) throw new TelemetryDecodeError('not a binary telemetry message');
  reader.at = 4;
  const receivedAtUs = reader.f64();
  if (!validTime(receivedAtUs)) throw new TelemetryDecodeError('received_at_us is not a time');
  const orgId = reader.text(reader.u16(), 'org_id');
  if (!orgId) throw new TelemetryDecodeError('org_id is empty');
  const seriesCount = reader.u32();
  const series: ScannedSeries[] = [];
  for (let s = 0; s < seriesCount; s++) {
    const headerAt = reader.at;
    // The header's extent first (lengths only), then its strings, read and checked on first sight.
    reader.skip(reader.u16());
    reader.skip(reader.u16());
    reader.skip(reader.u16());
    reader.skip(reader.u32());
    const identity = identities.of(b, headerAt, reader.at, () => readIdentity(b, headerAt));
    const count = reader.u32();
    if (count > reader.remaining / MIN_POINT) throw new TelemetryDecodeError(`series ${s} claims more points than the message holds`);
    const pointsAt = reader.at;
    let numbers = 0;
    let min = Infinity;
    let max = -Infinity;
    let latestUs = -Infinity;
    const timesUs = materialise ? new Float64Array(count) : undefined;
    const nums = materialise ? new Float64Array(count) : undefined;
    let jsons: Array<string | null> | null = null;
    for (let i = 0; i < count; i++) {
      const at = reader.at;
      let time: number;
      let num = NaN;
      let json = false;
      if (at + NUMERIC_POINT <= b.length && b[at + 8] === KIND_NUMBER) {
        // The usual point, a time and a number, read in place.
        time = reader.view.getFloat64(at, true);
        num = reader.view.getFloat64(at + 9, true);
        reader.at = at + NUMERIC_POINT;
      } else {
        time = reader.f64();
        const kind = reader.u8();
        if (kind === KIND_NUMBER) num = reader.f64();
        else if (kind === KIND_JSON) {
          json = true;
          const text = reader.text(reader.u32(), 'value');
          checkValue(identity, parseJson(text, 'value') as IncomingPoint['value']);
          if (materialise) {
            jsons ??= new Array<string | null>(count).fill(null);
            jsons[i] = text;
          }
        } else throw new TelemetryDecodeError(`series ${s} point ${i}: unknown value kind ${kind}`);
      }
      if (!validTime(time)) throw new TelemetryDecodeError(`series ${s} point ${i}: time is not a whole number of microseconds in range`);
      if (timesUs) {
        timesUs[i] = time;
        nums![i] = num;
      }
      if (json) continue;
      if (!Number.isFinite(num)) throw new TelemetryDecodeError(`series ${s} point ${i}: value is not a finite number`);
      numbers++;
      if (num < min) min = num;
      if (num > max) max = num;
      if (time > latestUs) latestUs = time;
    }
    if (!count) continue;
    const { sourceId, metric, sessionId, tags } = identity;
    const points = timesUs ? { timesUs, nums: nums!, jsons } : undefined;
    series.push({ sourceId, metric, sessionId, tags, bytes: b, pointsAt, count, numbers, min, max, latestUs, points });
  }
  if (reader.remaining) throw new TelemetryDecodeError(`${reader.remaining} bytes after the last series`);
  return { orgId, receivedAtUs, series };
}

/** Reads a binary telemetry message into column arrays, every length and value checked (scanTelemetryBatch). */
export function decodeTelemetryBatch(bytes: Uint8Array, identities: SeriesIdentities = processIdentities): TelemetryBatch {
  const { orgId, receivedAtUs, series } = scanTelemetryBatch(bytes, identities, true);
  return {
    orgId,
    receivedAtUs,
    series: series.map(({ sourceId, metric, sessionId, tags, points }) => ({ sourceId, metric, sessionId, tags, ...points! })),
  };
}

/** The points of a scanned series (checked by the scan), read from its bytes unless the scan kept them. */
export function pointsOf(series: ScannedSeries): Pick<SeriesPoints, 'timesUs' | 'nums' | 'jsons'> {
  if (series.points) return series.points;
  const { bytes: b, count } = series;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const timesUs = new Float64Array(count);
  const nums = new Float64Array(count);
  let jsons: Array<string | null> | null = null;
  let at = series.pointsAt;
  for (let i = 0; i < count; i++) {
    timesUs[i] = view.getFloat64(at, true);
    if (b[at + 8] === KIND_NUMBER) {
      nums[i] = view.getFloat64(at + 9, true);
      at += NUMERIC_POINT;
      continue;
    }
    const length = view.getUint32(at + 9, true);
    nums[i] = NaN;
    jsons ??= new Array<string | null>(count).fill(null);
    jsons[i] = b.toString('utf8', at + 13, at + 13 + length);
    at += 13 + length;
  }
  return { timesUs, nums, jsons };
}

/** A series header's strings (source, metric, session, tags), checked as the gateway checks a point's. */
function readIdentity(b: Buffer, at: number): SeriesIdentity {
  const reader = new Reader(b);
  reader.at = at;
  const sourceId = reader.text(reader.u16(), 'source_id');
  const metric = reader.text(reader.u16(), 'metric');
  const sessionId = reader.text(reader.u16(), 'session_id');
  const tagsText = reader.text(reader.u32(), 'tags');
  const tags = tagsText ? (parseJson(tagsText, 'tags') as IncomingPoint['tags']) : undefined;
  check({ source_id: sourceId, metric, value: 0, ...(sessionId ? { session_id: sessionId } : {}), ...(tags ? { tags } : {}) });
  return { sourceId, metric, sessionId, tags: canonicalTags(tags) };
}

function checkValue(identity: SeriesIdentity, value: IncomingPoint['value']): void {
  check({ source_id: identity.sourceId, metric: identity.metric, value });
}

function check(point: IncomingPoint): void {
  const checked = validateIngestBody({ points: [point] });
  if (!checked.ok) throw new TelemetryDecodeError(`invalid points: ${checked.detail.message.replace(/^points\[\d+\]\./, '')}`);
}

/** A whole number of microseconds from 1970 to the end of 9999 (past 2^53 µs, in 2255, whole but not every integer). */
function validTime(us: number): boolean {
  return Number.isInteger(us) && us >= 0 && us <= MAX_TIME_US;
}

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new TelemetryDecodeError(`${field} is not JSON`);
  }
}

/**
 * Bounds-checked reads: a length that runs past the message is an error, never a read past it.
 * Numbers through a DataView: Buffer's readDoubleLE copies eight bytes one by one into a scratch
 * array, which made reading a point's two doubles about half of decoding it.
 */
class Reader {
  at = 0;
  readonly view: DataView;

  constructor(private readonly b: Buffer) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  get remaining(): number {
    return this.b.length - this.at;
  }

  private need(bytes: number): void {
    if (this.at + bytes > this.b.length) throw new TelemetryDecodeError('message ends early');
  }

  skip(bytes: number): void {
    this.need(bytes);
    this.at += bytes;
  }

  u8(): number {
    this.need(1);
    return this.b[this.at++];
  }

  u16(): number {
    this.need(2);
    const value = this.view.getUint16(this.at, true);
    this.at += 2;
    return value;
  }

  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.at, true);
    this.at += 4;
    return value;
  }

  f64(): number {
    this.need(8);
    const value = this.view.getFloat64(this.at, true);
    this.at += 8;
    return value;
  }

  text(length: number, field: string): string {
    this.need(length);
    const bytes = this.b.subarray(this.at, this.at + length);
    if (!isUtf8(bytes)) throw new TelemetryDecodeError(`${field} is not valid UTF-8`);
    this.at += length;
    return bytes.toString('utf8');
  }
}
