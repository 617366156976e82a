import { isUtf8 } from 'node:buffer';
import { SOURCE_ID_PATTERN } from '../wire/limits.js';

/**
 * `SUBJECTS.realtime.liveTelemetry` message: an org's live telemetry frames that one realtime
 * instance read in one event-loop turn, as one NATS message, so neither the broker nor the
 * receiving instance pays per frame. Binary, so the receiver routes and forwards each frame's
 * bytes without parsing them:
 *
 *   header  "PXL1" | sent_at f64 | dropped u32 | count u32                 (20 bytes)
 *   record  source_id length u8 | source_id (ASCII) | arrived_at f64 | frame length u32 | frame
 *
 * Little-endian; times are Unix milliseconds. `dropped` counts the org's frames the sender
 * dropped (older than its ceiling) since its previous message. Each frame is the browser's
 * `telemetry` frame as sent to browsers: it starts with `{"source_id":"<the record's source>",`.
 */
export interface LiveTelemetryRecord {
  sourceId: string;
  /** When the frame was read from the device's socket (Unix ms). */
  arrivedAt: number;
  frame: Buffer;
}

export interface LiveTelemetryBatch {
  sentAt: number;
  dropped: number;
  records: LiveTelemetryRecord[];
}

export type DecodedLiveTelemetry = ({ ok: true } & LiveTelemetryBatch) | { ok: false; problem: string };

const MAGIC = 0x314c5850; // "PXL1" read little-endian
const HEADER_BYTES = 20;
/** Fixed bytes of a record besides its source id and frame. */
const RECORD_FIXED_BYTES = 1 + 8 + 4;
const SOURCE_ID = new RegExp(SOURCE_ID_PATTERN);
const MAX_U32 = 0xffffffff;

/** A frame's bytes as encoded: the prefix every frame of `sourceId` must start with. */
export function liveFramePrefix(sourceId: string): string {
  return `{"source_id":${JSON.stringify(sourceId)},`;
}

/** The encoded size of a record, so a sender can split batches under the broker's payload bound. */
export function liveRecordBytes(sourceId: string, frameBytes: number): number {
  return RECORD_FIXED_BYTES + sourceId.length + frameBytes;
}

export const LIVE_TELEMETRY_HEADER_BYTES = HEADER_BYTES;

/**
 * Encodes a batch. Frames are strings (the device's text with `source_id` spliced in) written
 * straight into the message; `frameBytes[i]` is `Buffer.byteLength(records[i].frame)`.
 */
export function encodeLiveTelemetry(
  sentAt: number,
  dropped: number,
  records: ReadonlyArray<{ sourceId: string; arrivedAt: number; frame: string; frameBytes: number }>,
): Buffer {
  let size = HEADER_BYTES;
  for (const record of records) size += liveRecordBytes(record.sourceId, record.frameBytes);
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32LE(MAGIC, 0);
  out.writeDoubleLE(sentAt, 4);
  out.writeUInt32LE(Math.min(dropped, MAX_U32), 12);
  out.writeUInt32LE(records.length, 16);
  let at = HEADER_BYTES;
  for (const record of records) {
    out.writeUInt8(record.sourceId.length, at);
    at += 1;
    at += out.write(record.sourceId, at, 'latin1');
    out.writeDoubleLE(record.arrivedAt, at);
    out.writeUInt32LE(record.frameBytes, at + 8);
    at += 12;
    at += out.write(record.frame, at, 'utf8');
  }
  return out;
}

/**
 * Decodes a batch from NATS, where anyone allowed to publish could have written it: the whole
 * message must be well formed (exact lengths, valid source ids, finite times, each frame valid
 * UTF-8 starting with its own source's prefix and ending in `}`), else nothing of it is used.
 * Frames are views into `data`, not copies.
 */
export function decodeLiveTelemetry(data: Uint8Array): DecodedLiveTelemetry {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length < HEADER_BYTES) return { ok: false, problem: `${bytes.length} bytes, shorter than the header` };
  if (bytes.readUInt32LE(0) !== MAGIC) return { ok: false, problem: 'not a live telemetry batch (bad magic)' };
  const sentAt = bytes.readDoubleLE(4);
  if (!Number.isFinite(sentAt)) return { ok: false, problem: 'sent_at is not a finite time' };
  const dropped = bytes.readUInt32LE(12);
  const count = bytes.readUInt32LE(16);
  // Every record takes at least its fixed bytes plus a one-character id and a two-byte frame.
  if (count > (bytes.length - HEADER_BYTES) / (RECORD_FIXED_BYTES + 3)) return { ok: false, problem: `count ${count} exceeds the message` };
  const records: LiveTelemetryRecord[] = [];
  let at = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (at + RECORD_FIXED_BYTES > bytes.length) return { ok: false, problem: `record ${i} is cut off` };
    const idLength = bytes.readUInt8(at);
    at += 1;
    if (at + idLength + 12 > bytes.length) return { ok: false, problem: `record ${i} is cut off` };
    const sourceId = bytes.toString('latin1', at, at + idLength);
    if (!SOURCE_ID.test(sourceId)) return { ok: false, problem: `record ${i}: not a valid source id` };
    at += idLength;
    const arrivedAt = bytes.readDoubleLE(at);
    const frameLength = bytes.readUInt32LE(at + 8);
    at += 12;
    if (!Number.isFinite(arrivedAt)) return { ok: false, problem: `record ${i}: arrived_at is not a finite time` };
    if (at + frameLength > bytes.length) return { ok: false, problem: `record ${i}: frame is cut off` };
    const frame = bytes.subarray(at, at + frameLength);
    at += frameLength;
    const prefix = liveFramePrefix(sourceId);
    if (frame.length <= prefix.length || frame.toString('latin1', 0, prefix.length) !== prefix || frame[frame.length - 1] !== 0x7d) {
      return { ok: false, problem: `record ${i}: frame is not a telemetry frame of its source` };
    }
    if (!isUtf8(frame)) return { ok: false, problem: `record ${i}: frame is not valid UTF-8` };
    records.push({ sourceId, arrivedAt, frame });
  }
  if (at !== bytes.length) return { ok: false, problem: `${bytes.length - at} bytes after the last record` };
  return { ok: true, sentAt, dropped, records };
}
