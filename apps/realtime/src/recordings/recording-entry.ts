import { checkDeviceCommand, type DeviceCommandFrame, kvKeyToken } from '#common';
import { bucketJsonObject } from '../presence/bucket-value.js';

export type StartSessionFrame = DeviceCommandFrame<'start_session'> & { session_id: string };

/** A start_session as stored is at most this large (a frame holds ≤ 1,000 metric names of ≤ 256 characters). */
const MAX_ENTRY_BYTES = 512 * 1024;

/** One key per source: a device records one session at a time, the last it was asked to. */
export function recordingKey(orgId: string, sourceId: string): string {
  return `${kvKeyToken(orgId)}.${kvKeyToken(sourceId)}`;
}

/**
 * The start_session stored for `sourceId`, checked against the wire schema as if a browser had
 * just sent it; undefined for anything else (someone else wrote the bucket, or it names another source).
 */
export function parseRecording(value: Uint8Array, sourceId: string): StartSessionFrame | undefined {
  const frame = bucketJsonObject(value, MAX_ENTRY_BYTES);
  if (!frame) return undefined;
  if (frame.type !== 'start_session') return undefined;
  const checked = checkDeviceCommand(frame as { type: string });
  if (!checked?.ok || checked.frame.type !== 'start_session') return undefined;
  const start = checked.frame;
  if (start.source_id !== sourceId || start.session_id === undefined) return undefined;
  return start as StartSessionFrame;
}
