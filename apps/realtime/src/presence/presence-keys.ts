import { isPrintable } from '#common';
import { bucketJsonObject } from './bucket-value.js';

export { deviceKey, parseDeviceKey } from '#common';

/**
 * What the presence buckets hold. Anyone who may publish on `$KV.<bucket>.>` can write them, so
 * everything read back is checked here and anything else is ignored, never trusted or thrown.
 */

/** A device's entry in the devices bucket: the instance holding its socket. */
export interface DeviceLease {
  instance_id: string;
  connection_id: string;
}

/** Instance ids are 12 hex characters (config.ts); a little room for other forms, never a dot. */
const INSTANCE_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** A value larger than this is not one realtime wrote. */
const MAX_VALUE_BYTES = 1024;

export function isInstanceId(value: unknown): value is string {
  return typeof value === 'string' && INSTANCE_ID.test(value);
}

/** A device lease as written by realtime; undefined for anything else (not JSON, wrong fields, too large). */
export function parseDeviceLease(value: Uint8Array): DeviceLease | undefined {
  const parsed = bucketJsonObject(value, MAX_VALUE_BYTES);
  if (!parsed) return undefined;
  const { instance_id: instanceId, connection_id: connectionId } = parsed;
  if (!isInstanceId(instanceId) || !isPrintable(connectionId, 128)) return undefined;
  return { instance_id: instanceId, connection_id: connectionId };
}
