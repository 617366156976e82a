import { isUtf8 } from 'node:buffer';
import type { IncomingPoint } from '../messages/telemetry.js';
import { INGEST_LIMITS, validateIngestBody } from './ingest-schema.js';
import { canonicalTags, type SeriesPoints } from './series-points.js';

/**
 * The binary form of a telemetry message on JetStream: what the gateway, the line-protocol
 * writer and the realtime recorder publish, and what the ingest writer reads. Hand-written
 * rather than a general serialiser (MessagePack, protobuf): it is the ingest hot path, and this
 * layout is read straight into column arrays with no object per point, where JSON cost the
 * writer a parse, a validation and several strings per point (and 5–6× the bytes through NATS).
 *
 * Layout, little-endian:
 *   magic (4 bytes: NUL "P" "X" version 1) · received_at_us f64 · org str16 · series count u32
 *   per series: source_id str16 · metric str16 · session_id str16 ('' none) · tags str32
 *     (canonical JSON, '' none) · point count u32
 *     per point: time (Unix µs) f64 · kind u8 — 0: value f64 · 1: u32 length + UTF-8 JSON text
 * strN = N-bit byte length + UTF-8 bytes. No JSON text starts with NUL, so the magic also tells
 * this form from the JSON messages of earlier versions (still read: telemetry-envelope.ts).
 */
export const BATCH_MAGIC = Buffer.from([0x00, 0x50, 0x58, 0x01]);
/** Value of the encoding header on a binary telemetry message. */
export const BATCH_ENCODING = 'plexus-batch-1';

const HEADER_FIXED = 4 + 8 + 2 + 4;
const SERIES_FIXED = 2 + 2 + 2 + 4 + 4;
const NUMERIC_POINT = 8 + 1 + 8;
const JSON_POINT_FIXED = 8 + 1 + 4;
/** The smallest a point can be: a JSON value of one byte (`0` is sent as a number, but the shortest text is what bounds a count). */
const MIN_POINT = JSON_POINT_FIXED + 1;
const KIND_NUMBER = 0;
const KIND_JSON = 1;
/** Latest time a point may carry (INGEST_LIMITS' last millisecond of 9999), in microseconds. */
const MAX_TIME_US = INGEST_LIMITS.maxTimestampMs * 1000;

/** A telemetry message that cannot be read: never retried, it goes to the dead-letter subject. */
export class TelemetryDecodeError extends Error {}

/** One telemetry message: the points of one accepted request (or of one part of it), by series. */
export interface TelemetryBatch {
  orgId: string;
  receivedAtUs: number;
  series: SeriesPoints[];
}

/** Writes parts of at most `maxBytes`, starting a new one (repeating the series header) when the next item does not fit. */
class PartWriter {
  readonly parts: Buffer[] = [];
  private buffer!: Buffer;
  private at = 0;
  private seriesCountAt = 0;
  private seriesCount = 0;
  private pointCountAt = -1;
  private pointCount = 0;
  private current?: SeriesPoints;

  constructor(
    private readonly org: Buffer,
    private readonly receivedAtUs: number,
    private readonly partBytes: number,
  ) {
    this.startPart();
  }

  series(series: SeriesPoints, head: SeriesHead): void {
    this.closeSeries();
    if (this.at + head.bytes + MIN_POINT > this.partBytes && this.seriesCount > 0) this.nextPart();
    if (this.at + head.bytes + MIN_POINT > this.partBytes) throw new Error('a single point does not fit in a broker message');
    this.writeSeriesHead(series, head);
  }

  point(head: SeriesHead, timeUs: number, num: number, json: Buffer | null): void {
    const bytes = json === null ? NUMERIC_POINT : JSON_POINT_FIXED + json.length;
    if (this.at + bytes > this.partBytes) {
      if (this.pointCount === 0 && this.seriesCount === 1) throw new Error('a single point does not fit in a broker message');
      this.closeSeries();
      this.nextPart();
      this.writeSeriesHead(this.current!, head);
    }
    const b = this.buffer;
    b.writeDoubleLE(timeUs, this.at);
    if (json === null) {
      b[this.at + 8] = KIND_NUMBER;
      b.writeDoubleLE(num, this.at + 9);
    } else {
      b[this.at + 8] = KIND_JSON;
      b.writeUInt32LE(json.length, this.at + 9);
      json.copy(b, this.at + 13);
    }
    this.at += bytes;
    this.pointCount++;
  }

  finish(): Buffer[] {
    this.closeSeries();
    this.closePart();
    return this.parts;
  }

  private writeSeriesHead(series: SeriesPoints, head: SeriesHead): void {
    this.current = series;
    let at = this.at;
    for (const text of [head.source, head.metric, head.session]) {
      this.buffer.writeUInt16LE(text.length, at);
      text.copy(this.buffer, at + 2);
      at += 2 + text.length;
    }
    this.buffer.writeUInt32LE(head.tags.length, at);
    head.tags.copy(this.buffer, at + 4);
    at += 4 + head.tags.length;
    this.pointCountAt = at;
    this.at = at + 4;
    this.pointCount = 0;
    this.seriesCount++;
  }

  private closeSeries(): void {
    if (this.pointCountAt < 0) return;
    this.buffer.writeUInt32LE(this.pointCount, this.pointCountAt);
    this.pointCountAt = -1;
  }

  private startPart(): void {
    this.buffer = Buffer.allocUnsafe(this.partBytes);
    BATCH_MAGIC.copy(this.buffer, 0);
    this.buffer.writeDoubleLE(this.receivedAtUs, 4);
    this.buffer.writeUInt16LE(this.org.length, 12);
    this.org.copy(this.buffer, 14);
    this.seriesCountAt = 14 + this.org.length;
    this.at = this.seriesCountAt + 4;
    this.seriesCount = 0;
  }

  private closePart(): void {
    this.buffer.writeUInt32LE(this.seriesCount, this.seriesCountAt);
    this.parts.push(this.buffer.subarray(0, this.at));
  }

  private nextPart(): void {
    this.closePart();
    this.startPart();
  }
}

interface SeriesHead {
  source: Buffer;
  metric: Buffer;
  session: Buffer;
  tags: Buffer;
  /** Bytes of the series header. */
  bytes: number;
}

/**
 * Telemetry as binary messages of at most `maxBytes` each: usually one; a request too large for
 * one broker message is split between series or between points of a series, every part
 * carrying the org and `received_at_us`.
 */
export function encodeTelemetryBatch(orgId: string, receivedAtUs: number, series: readonly SeriesPoints[], maxBytes: number): Buffer[] {
  const org = Buffer.from(orgId);
  const heads: SeriesHead[] = [];
  const jsons: Array<Array<Buffer | null> | null> = [];
  let total = HEADER_FIXED + org.length;
  for (const s of series) {
    const head = {
      source: Buffer.from(s.sourceId),
      metric: Buffer.from(s.metric),
      session: Buffer.from(s.sessionId),
      tags: Buffer.from(s.tags),
      bytes: 0,
    };
    head.bytes = SERIES_FIXED + head.source.length + head.metric.length + head.session.length + head.tags.length;
    heads.push(head);
    total += head.bytes + s.timesUs.length * NUMERIC_POINT;
    const texts = s.jsons && s.jsons.map((text) => (text === null ? null : Buffer.from(text)));
    for (const text of texts ?? []) if (text) total += text.length + JSON_POINT_FIXED - NUMERIC_POINT;
    jsons.push(texts);
  }
  const writer = new PartWriter(org, receivedAtUs, Math.min(total, maxBytes));
  for (let s = 0; s < series.length; s++) {
    const { timesUs, nums } = series[s];
    const texts = jsons[s];
    writer.series(series[s], heads[s]);
    for (let i = 0; i < timesUs.length; i++) writer.point(heads[s], timesUs[i], nums[i], texts ? texts[i] : null);
  }
  return writer.finish();
}

/** Reads a binary telemetry message, checking every length and every value as the gateway would have. */
export function decodeTelemetryBatch(bytes: Uint8Array): TelemetryBatch {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = new Reader(b);
  if (b.length < 4 || !BATCH_MAGIC.equals(b.subarray(0, 4))) throw new TelemetryDecodeError('not a binary telemetry message');
  reader.at = 4;
  const receivedAtUs = reader.f64();
  if (!validTime(receivedAtUs)) throw new TelemetryDecodeError('received_at_us is not a time');
  const orgId = reader.text(reader.u16(), 'org_id');
  if (!orgId) throw new TelemetryDecodeError('org_id is empty');
  const seriesCount = reader.u32();
  const series: SeriesPoints[] = [];
  // Checked against the schema all at once: one point per series (its identity), one per JSON value.
  const checks: IncomingPoint[] = [];
  for (let s = 0; s < seriesCount; s++) {
    const sourceId = reader.text(reader.u16(), 'source_id');
    const metric = reader.text(reader.u16(), 'metric');
    const sessionId = reader.text(reader.u16(), 'session_id');
    const tagsText = reader.text(reader.u32(), 'tags');
    const count = reader.u32();
    if (count > reader.remaining / MIN_POINT) throw new TelemetryDecodeError(`series ${s} claims more points than the message holds`);
    const tags = tagsText ? (parseJson(tagsText, 'tags') as IncomingPoint['tags']) : undefined;
    checks.push({ source_id: sourceId, metric, value: 0, ...(sessionId ? { session_id: sessionId } : {}), ...(tags ? { tags } : {}) });
    const timesUs = new Float64Array(count);
    const nums = new Float64Array(count);
    let jsons: Array<string | null> | null = null;
    for (let i = 0; i < count; i++) {
      const at = reader.at;
      if (at + NUMERIC_POINT <= b.length && b[at + 8] === KIND_NUMBER) {
        // The usual point, a time and a number, read in place.
        const time = reader.view.getFloat64(at, true);
        const num = reader.view.getFloat64(at + 9, true);
        if (!validTime(time)) throw new TelemetryDecodeError(`series ${s} point ${i}: time is not a whole number of microseconds in range`);
        if (!Number.isFinite(num)) throw new TelemetryDecodeError(`series ${s} point ${i}: value is not a finite number`);
        timesUs[i] = time;
        nums[i] = num;
        reader.at = at + NUMERIC_POINT;
        continue;
      }
      const time = reader.f64();
      if (!validTime(time)) throw new TelemetryDecodeError(`series ${s} point ${i}: time is not a whole number of microseconds in range`);
      timesUs[i] = time;
      const kind = reader.u8();
      if (kind === KIND_NUMBER) {
        const num = reader.f64();
        if (!Number.isFinite(num)) throw new TelemetryDecodeError(`series ${s} point ${i}: value is not a finite number`);
        nums[i] = num;
      } else if (kind === KIND_JSON) {
        const text = reader.text(reader.u32(), 'value');
        checks.push({ source_id: sourceId, metric, value: parseJson(text, 'value') as IncomingPoint['value'] });
        nums[i] = NaN;
        jsons ??= new Array<string | null>(count).fill(null);
        jsons[i] = text;
      } else {
        throw new TelemetryDecodeError(`series ${s} point ${i}: unknown value kind ${kind}`);
      }
    }
    if (count) series.push({ sourceId, metric, sessionId, tags: canonicalTags(tags), timesUs, nums, jsons });
  }
  if (reader.remaining) throw new TelemetryDecodeError(`${reader.remaining} bytes after the last series`);
  for (let from = 0; from < checks.length; from += INGEST_LIMITS.maxPoints) {
    const checked = validateIngestBody({ points: checks.slice(from, from + INGEST_LIMITS.maxPoints) });
    if (!checked.ok) throw new TelemetryDecodeError(`invalid points: ${checked.detail.message.replace(/^points\[\d+\]\./, '')}`);
  }
  return { orgId, receivedAtUs, series };
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
