import { promisify } from 'node:util';
import { gunzip as gunzipCallback, gzip as gzipCallback } from 'node:zlib';
import type { IncomingPoint } from '../messages/telemetry.js';

const gzip = promisify(gzipCallback);
const gunzip = promisify(gunzipCallback);

/** Header on a telemetry message whose body is gzip-compressed. */
export const ENCODING_HEADER = 'Plexus-Encoding';
/** Room left in a NATS message for headers and the subject. */
const HEADROOM = 4 * 1024;

export interface TelemetryPart {
  body: Uint8Array | string;
  gzip: boolean;
}

function envelope(orgId: string, receivedAtUs: number, requestJson: string): string {
  return `{"org_id":${JSON.stringify(orgId)},"received_at_us":${receivedAtUs},"request":${requestJson}}`;
}

async function fit(text: string, maxBytes: number): Promise<TelemetryPart | undefined> {
  if (Buffer.byteLength(text) <= maxBytes) return { body: text, gzip: false };
  const compressed = await gzip(text, { level: 1 });
  return compressed.length <= maxBytes ? { body: compressed, gzip: true } : undefined;
}

/**
 * One accepted request as JetStream message bodies, each within the broker's max payload
 * (1 MiB by default, while a request may be 5 MiB). Usually one message holding the raw
 * body untouched; a large one is gzip-compressed; one still too large is split by points,
 * every part carrying the same `received_at_us`.
 */
export async function encodeTelemetry(
  orgId: string,
  receivedAtUs: number,
  rawBody: string,
  points: IncomingPoint[],
  maxPayloadBytes: number,
): Promise<TelemetryPart[]> {
  const maxBytes = maxPayloadBytes - HEADROOM;
  const whole = await fit(envelope(orgId, receivedAtUs, rawBody), maxBytes);
  if (whole) return [whole];
  const split = async (slice: IncomingPoint[]): Promise<TelemetryPart[]> => {
    const part = await fit(envelope(orgId, receivedAtUs, JSON.stringify({ points: slice })), maxBytes);
    if (part) return [part];
    if (slice.length === 1) throw new Error('a single point does not fit in a broker message');
    const half = Math.ceil(slice.length / 2);
    return [...(await split(slice.slice(0, half))), ...(await split(slice.slice(half)))];
  };
  return split(points);
}

/** The JSON text of a telemetry message, whichever way it was encoded. */
export async function decodeTelemetry(data: Uint8Array, encoding: string | undefined): Promise<string> {
  const bytes = encoding === 'gzip' ? await gunzip(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return bytes.toString('utf8');
}
