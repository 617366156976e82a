import { TelemetryDecodeError } from './telemetry-batch.js';

/**
 * A message of the alert feed that carries several telemetry messages of one org, as ingest
 * committed them: header `Plexus-Encoding: plexus-feed-1`. Ingest feeds a committed batch's
 * messages of an org together rather than one by one, because each feed message costs the
 * broker and the alerts app a delivery, a wake-up and an ack whatever its size. The parts are
 * the telemetry messages' own bytes, never decoded or re-encoded here.
 *
 * Layout: magic NUL 'P' 'F' 1, part count u32 LE, then per part its encoding (u8 length + ASCII,
 * empty for none) and its bytes (u32 LE length + bytes).
 */
export const FEED_ENCODING = 'plexus-feed-1';
const MAGIC = Buffer.from([0x00, 0x50, 0x46, 0x01]);
/** A part's encoding is a header value such as `plexus-batch-1` or `gzip`. */
const ENCODING = /^[a-z0-9-]{0,32}$/;

export interface FeedPart {
  data: Uint8Array;
  encoding: string | undefined;
}

/** The bytes a part takes in a feed message besides its data. */
export function feedPartOverhead(part: FeedPart): number {
  return 1 + (part.encoding?.length ?? 0) + 4;
}

export const FEED_HEADER_BYTES = MAGIC.length + 4;

export function encodeFeedMessage(parts: readonly FeedPart[]): Buffer {
  const size = parts.reduce((sum, part) => sum + feedPartOverhead(part) + part.data.length, FEED_HEADER_BYTES);
  const out = Buffer.allocUnsafe(size);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(parts.length, MAGIC.length);
  let at = FEED_HEADER_BYTES;
  for (const part of parts) {
    const encoding = part.encoding ?? '';
    if (!ENCODING.test(encoding)) throw new Error(`not an encoding a feed message carries: ${JSON.stringify(encoding.slice(0, 40))}`);
    out.writeUInt8(encoding.length, at++);
    at += out.write(encoding, at, 'latin1');
    out.writeUInt32LE(part.data.length, at);
    at += 4;
    out.set(part.data, at);
    at += part.data.length;
  }
  return out;
}

/** The telemetry messages a feed message carries; every length is checked against what is there. */
export function splitFeedMessage(data: Uint8Array): FeedPart[] {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length < FEED_HEADER_BYTES || !MAGIC.equals(bytes.subarray(0, MAGIC.length)))
    throw new TelemetryDecodeError('not a feed message');
  const count = bytes.readUInt32LE(MAGIC.length);
  // Each part takes at least 5 bytes: a count larger than that allows is a lie.
  if (count > (bytes.length - FEED_HEADER_BYTES) / 5) throw new TelemetryDecodeError('feed message claims more parts than it holds');
  const parts: FeedPart[] = [];
  let at = FEED_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (at + 1 > bytes.length) throw new TelemetryDecodeError(`feed part ${i} is cut short`);
    const encodingLength = bytes.readUInt8(at++);
    if (at + encodingLength + 4 > bytes.length) throw new TelemetryDecodeError(`feed part ${i} is cut short`);
    const encoding = bytes.toString('latin1', at, at + encodingLength);
    if (!ENCODING.test(encoding)) throw new TelemetryDecodeError(`feed part ${i} has an encoding that is not one`);
    at += encodingLength;
    const length = bytes.readUInt32LE(at);
    at += 4;
    if (at + length > bytes.length) throw new TelemetryDecodeError(`feed part ${i} claims more bytes than the message holds`);
    parts.push({ data: bytes.subarray(at, at + length), encoding: encoding || undefined });
    at += length;
  }
  if (at !== bytes.length) throw new TelemetryDecodeError('feed message has bytes after its last part');
  return parts;
}
