import type { NatsConnection } from '@nats-io/transport-node';
import type { PresenceReply } from '../messages/realtime.js';
import type { OnlineSource } from '../wire/index.js';
import { SUBJECTS } from '../subjects.js';

/**
 * The org's sources connected to any realtime instance: every instance answers the scatter
 * request; collection stops 100 ms after the last answer (at most 1 s). No instance → none online.
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
