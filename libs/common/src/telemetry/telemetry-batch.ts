import type { SeriesPoints } from './series-points.js';

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
export const NUMERIC_POINT = 8 + 1 + 8;
const JSON_POINT_FIXED = 8 + 1 + 4;
/** The smallest a point can be: a JSON value of one byte (`0` is sent as a number, but the shortest text is what bounds a count). */
export const MIN_POINT = JSON_POINT_FIXED + 1;
export const KIND_NUMBER = 0;
export const KIND_JSON = 1;

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

/** Byte offset of the series count in a message of `org` (bytes of the org id's UTF-8). */
function seriesCountAt(message: Buffer): number {
  return HEADER_FIXED - 4 + message.readUInt16LE(12);
}

/**
 * Messages of one org (each from encodeTelemetryBatch, one part each) as fewer messages of at
 * most `maxBytes`: consecutive ones joined by appending their series to the first one's, which
 * gives the joined message its `received_at_us`. A message is never split: one larger than
 * `maxBytes` stays as it is. No decoding: the series sections are copied as they are.
 */
export function joinTelemetryBatches(messages: readonly Buffer[], maxBytes: number): Buffer[] {
  const joined: Buffer[] = [];
  let group: Buffer[] = [];
  let bytes = 0;
  const close = () => {
    if (group.length === 1) joined.push(group[0]);
    else if (group.length > 1) joined.push(joinGroup(group, bytes));
    group = [];
  };
  for (const message of messages) {
    const body = message.length - seriesCountAt(message) - 4;
    if (group.length && bytes + body > maxBytes) close();
    if (!group.length) bytes = message.length;
    else bytes += body;
    group.push(message);
  }
  close();
  return joined;
}

function joinGroup(group: Buffer[], bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  const first = group[0];
  first.copy(out, 0);
  const countAt = seriesCountAt(first);
  let series = first.readUInt32LE(countAt);
  let at = first.length;
  for (let i = 1; i < group.length; i++) {
    const message = group[i];
    const from = seriesCountAt(message);
    series += message.readUInt32LE(from);
    at += message.copy(out, at, from + 4);
  }
  out.writeUInt32LE(series, countAt);
  return out;
}
