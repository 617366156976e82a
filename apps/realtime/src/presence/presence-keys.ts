import { isInstanceId, isPrintable } from '#common';
import { bucketJsonObject } from './bucket-value.js';

export { deviceKey, isInstanceId, parseDeviceKey } from '#common';

/**
 * What the presence buckets hold. Anyone who may publish on `$KV.<bucket>.>` can write them, so
 * everything read back is checked here and anything else is ignored, never trusted or thrown.
 */

/** A device's entry in the devices bucket: the instance holding its socket. */
export interface DeviceLease {
  instance_id: string;
  connection_id: string;
}

/** A value larger than this is not one realtime wrote. */
const MAX_VALUE_BYTES = 1024;

/** A device lease as written by realtime; undefined for anything else (not JSON, wrong fields, too large). */
export function parseDeviceLease(value: Uint8Array): DeviceLease | undefined {
  const parsed = bucketJsonObject(value, MAX_VALUE_BYTES);
  if (!parsed) return undefined;
  const { instance_id: instanceId, connection_id: connectionId } = parsed;
  if (!isInstanceId(instanceId) || !isPrintable(connectionId, 128)) return undefined;
  return { instance_id: instanceId, connection_id: connectionId };
}
