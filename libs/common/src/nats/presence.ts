import type { NatsConnection } from '@nats-io/transport-node';
import type { PresenceReply } from '../messages/realtime.js';
import type { OnlineSource } from '../wire/index.js';
import { fromKvKeyToken, kvKeyToken, SUBJECTS } from '../subjects.js';
import { isOrgId, isSourceId } from '../messages/realtime.js';

/**
 * The org's sources connected to any realtime instance: every instance answers the scatter
 * request, in several replies when its list passes NATS's max_payload (presence-replies.ts in
 * realtime); collection stops 100 ms after the last answer (at most 1 s). No instance → none online.
 */
export async function onlineSources(nc: NatsConnection, orgId: string): Promise<OnlineSource[]> {
  const sources: OnlineSource[] = [];
  try {
    const replies = await nc.requestMany(SUBJECTS.realtime.presence(orgId), '', { strategy: 'stall', stall: 100, maxWait: 1000 });
    for await (const reply of replies) {
      if (reply.data.length) sources.push(...reply.json<PresenceReply>().sources);
    }
  } catch {
    // No responders: no realtime instance, so nothing is online.
  }
  return sources;
}

/** A device's key in realtime's devices bucket (BUCKETS.presenceDevices): `<org>.<source>` in kvKeyToken form. */
export function deviceKey(orgId: string, sourceId: string): string {
  return `${kvKeyToken(orgId)}.${kvKeyToken(sourceId)}`;
}

/** The org and source a devices-bucket key names; undefined for a key realtime never writes. */
export function parseDeviceKey(key: string): { orgId: string; sourceId: string } | undefined {
  const tokens = key.split('.');
  if (tokens.length !== 2) return undefined;
  const orgId = fromKvKeyToken(tokens[0]);
  const sourceId = fromKvKeyToken(tokens[1]);
  if (orgId === undefined || sourceId === undefined || !isOrgId(orgId) || !isSourceId(sourceId)) return undefined;
  return { orgId, sourceId };
}
