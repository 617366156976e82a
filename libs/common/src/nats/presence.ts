import { createInbox, type NatsConnection } from '@nats-io/transport-node';
import type { PresenceReply } from '../messages/realtime.js';
import type { OnlineSource } from '../wire/index.js';
import { checkOnlineSource } from '../wire/validate.js';
import { BUCKETS, fromKvKeyToken, kvKeyToken, SUBJECTS } from '../subjects.js';
import { isOrgId, isSourceId } from '../messages/realtime.js';
import { liveInstances } from './presence-instances.js';

/** How long `onlineSources` gathers answers, and how much it takes: see there. */
export const PRESENCE_GATHER = { stallMs: 100, maxWaitMs: 1000, maxTotalMs: 10_000, maxSources: 200_000 } as const;

type Gather = {
  stallMs: number;
  maxWaitMs: number;
  maxTotalMs?: number;
  maxSources?: number;
  /** Where the live realtime instances are listed: BUCKETS.presenceInstances unless a test says otherwise. */
  instancesBucket?: string;
};

/**
 * The org's sources connected to any realtime instance. Every instance answers the scatter
 * request; one with many devices answers in pieces (NATS refuses a message over its max_payload),
 * announcing itself at once with `more: true` and ending with `more: false`
 * (`presence-replies.ts` in realtime). An answer without `instance_id` (an instance of before the
 * pieces) is complete in itself. No instance (NATS says no responders) → none online, at once.
 *
 * Gathering stops `stallMs` after the last message once no instance still owes its last piece.
 * The instances owed are those that announced themselves and, beside the request, those listed
 * alive in the instances bucket (`liveInstances`): a busy instance's first piece may come well
 * after an idle instance's whole answer, and a stall counted from the idle one's answer ended
 * the gather without the busy one (GET /api/sources showed 0 of 19,945 online). Until the
 * listing is in, nothing is judged complete; a listing that fails (no bucket, no permission)
 * leaves only the announced instances owed, as before.
 *
 * Whatever is owed, gathering ends `maxWaitMs` after the last message (so a listed instance that
 * died within its lease costs at most that), after `maxTotalMs` in all, and keeps at most
 * `maxSources` entries. `maxWaitMs` is counted from the last message, not from the request: an
 * asker whose event loop is busy (a gateway streaming a list of 20,000 sources beside it) reads
 * an instance's pieces late, and a deadline from the request cut them off.
 */
export async function onlineSources(nc: NatsConnection, orgId: string, gather: Gather = PRESENCE_GATHER): Promise<OnlineSource[]> {
  const maxTotalMs = gather.maxTotalMs ?? PRESENCE_GATHER.maxTotalMs;
  const maxSources = gather.maxSources ?? PRESENCE_GATHER.maxSources;
  const answers: Answers = { sources: [], owing: new Set(), finished: new Set() };
  const inbox = createInbox();
  await new Promise<void>((resolve) => {
    let listed: Set<string> | undefined;
    let listing = true;
    let stalled = false;
    let stall: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(stall);
      clearTimeout(quiet);
      clearTimeout(cap);
      subscription.unsubscribe();
      resolve();
    };
    const complete = () => !listing && !answers.owing.size && [...(listed ?? [])].every((id) => answers.finished.has(id));
    let quiet = setTimeout(done, gather.maxWaitMs);
    const cap = setTimeout(done, maxTotalMs);
    const subscription = nc.subscribe(inbox, {
      callback: (error, msg) => {
        if (error || msg.headers?.code === 503) return done();
        if (msg.data.length) addReply(msg.data, answers, maxSources);
        stalled = false;
        clearTimeout(quiet);
        quiet = setTimeout(done, gather.maxWaitMs);
        clearTimeout(stall);
        stall = setTimeout(() => {
          stalled = true;
          if (complete()) done();
        }, gather.stallMs);
      },
    });
    nc.publish(SUBJECTS.realtime.presence(orgId), '', { reply: inbox });
    // Beside the request, not before it: the listing is a JetStream round trip or two.
    void liveInstances(nc, gather.instancesBucket ?? BUCKETS.presenceInstances).then((ids) => {
      listed = ids;
      listing = false;
      if (stalled && complete()) done();
    });
  });
  return answers.sources;
}

/** What the gather holds so far: the sources, the instances that announced a list, those that finished theirs. */
interface Answers {
  sources: OnlineSource[];
  owing: Set<string>;
  finished: Set<string>;
}

/** One piece of an instance's answer; anything that is not a presence reply is ignored. */
function addReply(data: Uint8Array, answers: Answers, maxSources: number): void {
  let reply: PresenceReply;
  try {
    reply = JSON.parse(new TextDecoder().decode(data)) as PresenceReply;
  } catch {
    return;
  }
  if (typeof reply !== 'object' || reply === null) return;
  const { sources } = answers;
  // One by one (a spread of a huge array overflows the stack), and only well-formed entries: an
  // answer on NATS may have been written by anyone allowed to publish there.
  if (Array.isArray(reply.sources))
    for (const entry of reply.sources as unknown[]) {
      if (sources.length >= maxSources) break;
      const checked = checkOnlineSource(entry);
      if (checked.ok) sources.push(checked.frame);
    }
  if (typeof reply.instance_id !== 'string') return;
  if (reply.more === true) {
    answers.owing.add(reply.instance_id);
  } else {
    answers.owing.delete(reply.instance_id);
    answers.finished.add(reply.instance_id);
  }
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
