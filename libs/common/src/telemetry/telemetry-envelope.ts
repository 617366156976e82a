import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import type { IncomingPoint, TelemetryMessage } from '../messages/telemetry.js';
import { validateIngestBody } from './ingest-schema.js';
import { groupBySeries } from './series-points.js';
import { BATCH_MAGIC, encodeTelemetryBatch, type TelemetryBatch, TelemetryDecodeError } from './telemetry-batch.js';
import { decodeTelemetryBatch } from './telemetry-decode.js';

const gunzip = promisify(gunzipCallback);

/** Header naming how a telemetry message's body is encoded (telemetry-batch.ts; 'gzip' on JSON messages of earlier versions). */
export const ENCODING_HEADER = 'Plexus-Encoding';
/** Room left in a NATS message for headers and the subject. */
export const TELEMETRY_HEADROOM = 4 * 1024;

/**
 * One accepted request as JetStream message bodies in the binary form (telemetry-batch.ts),
 * each within the broker's max payload (1 MiB by default, while a request may be 5 MiB).
 */
export function encodeTelemetry(orgId: string, receivedAtUs: number, points: readonly IncomingPoint[], maxPayloadBytes: number): Buffer[] {
  return encodeTelemetryBatch(orgId, receivedAtUs, groupBySeries(points, receivedAtUs), maxPayloadBytes - TELEMETRY_HEADROOM);
}

/** Is this telemetry message in the binary form (telemetry-batch.ts), not the JSON envelope of earlier versions? */
export function isBinaryTelemetry(data: Uint8Array, encoding: string | undefined): boolean {
  return encoding !== 'gzip' && data.length >= 4 && BATCH_MAGIC.equals(data.subarray(0, 4));
}

/**
 * A telemetry message as points by series, whichever way it was encoded: the binary form, or
 * the JSON envelope `{org_id, received_at_us, request}` (gzip-compressed when large) that earlier
 * versions published, so messages still in the stream after an upgrade are stored all the same.
 * Everything is checked as the gateway checks it; a message that fails throws TelemetryDecodeError.
 */
export async function decodeTelemetryMessage(data: Uint8Array, encoding: string | undefined): Promise<TelemetryBatch> {
  if (isBinaryTelemetry(data, encoding)) return decodeTelemetryBatch(data);
  let text: string;
  try {
    const bytes = encoding === 'gzip' ? await gunzip(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    text = bytes.toString('utf8');
  } catch (error) {
    throw new TelemetryDecodeError(`message cannot be decompressed: ${(error as Error).message}`);
  }
  let message: TelemetryMessage;
  try {
    message = JSON.parse(text) as TelemetryMessage;
  } catch (error) {
    throw new TelemetryDecodeError(`message is not JSON: ${(error as Error).message}`);
  }
  const orgId = message?.org_id;
  if (typeof orgId !== 'string' || !orgId || !Number.isSafeInteger(message.received_at_us) || message.received_at_us < 0) {
    throw new TelemetryDecodeError('message lacks org_id or received_at_us');
  }
  const checked = validateIngestBody(message.request);
  if (!checked.ok) throw new TelemetryDecodeError(`invalid points: ${checked.detail.message}`);
  return { orgId, receivedAtUs: message.received_at_us, series: groupBySeries(checked.points, message.received_at_us) };
}
