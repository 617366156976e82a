import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { StorageType } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { SUBJECTS } from '../subjects.js';
import type { OnlineSource } from '../wire/index.js';
import { MAX_LISTED_INSTANCES } from './presence-instances.js';
import { onlineSources } from './presence.js';

// Against the shared NATS server; each test asks for an org of its own, so no other run answers,
// and lists its live instances in a bucket of its own (the tests that list none, in an empty one).
const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';
let nc: NatsConnection;
const subscriptions: Subscription[] = [];
const buckets: KV[] = [];
let emptyBucket: string;

beforeAll(async () => {
  nc = await connect({ servers: NATS_URL });
  emptyBucket = await instancesBucket([]);
});

afterAll(async () => {
  for (const subscription of subscriptions) subscription.unsubscribe();
  for (const bucket of buckets) await bucket.destroy().catch(() => undefined);
  await nc.close();
});

/** An instances bucket as realtime makes it (memory, max age the lease) holding `keys`; its name. */
async function instancesBucket(keys: string[], value = '{"renewed_at":"2026-12-01T21:00:00.000Z"}'): Promise<string> {
  const name = `PRESENCE_TEST_${randomBytes(4).toString('hex')}_RT_INSTANCES`;
  const kv = await new Kvm(nc).create(name, { history: 1, storage: StorageType.Memory, ttl: 60_000 });
  buckets.push(kv);
  for (const key of keys) await kv.put(key, value);
  return name;
}

const newOrg = () => `presence-${randomBytes(4).toString('hex')}`;

function source(id: string): OnlineSource {
  return { source_id: id, platform: 'linux', sensors: [], cameras: [], connected_at: '2026-12-01T21:00:00.000Z' } as OnlineSource;
}

/** A realtime instance stand-in answering the org's presence requests with `answer`. */
function instance(orgId: string, answer: (msg: Msg) => unknown): void {
  subscriptions.push(nc.subscribe(SUBJECTS.realtime.presence(orgId), { callback: (_, msg) => void answer(msg) }));
}

describe('onlineSources (presence scatter/gather)', () => {
  it('answers none at once when no realtime instance listens', async () => {
    expect(await onlineSources(nc, newOrg(), { stallMs: 100, maxWaitMs: 1000, instancesBucket: emptyBucket })).toEqual([]);
  });

  it('waits for an instance that announced itself and answers in pieces, past the stall after a quick instance', async () => {
    const orgId = newOrg();
    await nc.flush();
    // An instance of before the pieces: one complete answer at once.
    instance(orgId, (msg) => msg.respond(JSON.stringify({ sources: [source('quick')] })));
    // An instance with a long list: announces itself, is busy building for longer than the stall, then two pieces.
    instance(orgId, async (msg) => {
      msg.respond(JSON.stringify({ sources: [], instance_id: 'slow', more: true }));
      await new Promise((resolve) => setTimeout(resolve, 300));
      msg.respond(JSON.stringify({ sources: [source('slow-1')], instance_id: 'slow', more: true }));
      msg.respond(JSON.stringify({ sources: [source('slow-2')], instance_id: 'slow', more: false }));
    });
    await nc.flush();
    const online = await onlineSources(nc, orgId, { stallMs: 100, maxWaitMs: 5000, instancesBucket: emptyBucket });
    expect(online.map((s) => s.source_id).sort()).toEqual(['quick', 'slow-1', 'slow-2']);
  });

  it('outlasts replies that are not presence answers and an instance that never sends its last piece', async () => {
    const orgId = newOrg();
    instance(orgId, (msg) => {
      const junks = [
        'not json',
        'null',
        '[]',
        '{"sources":"x"}',
        '{"sources":[],"instance_id":7,"more":true}',
        // 300,000 entries (a spread of them overflowed the stack) and entries of the wrong shape
        `{"sources":[${'0,'.repeat(299_999)}0]}`,
        JSON.stringify({ sources: [null, 'x', { source_id: 5 }, { ...source('no-sensors'), sensors: 'x' }] }),
      ];
      for (const junk of junks) msg.respond(junk);
      msg.respond(JSON.stringify({ sources: [source('ok')], instance_id: 'fine', more: false }));
    });
    instance(orgId, (msg) => msg.respond(JSON.stringify({ sources: [source('half')], instance_id: 'stuck', more: true })));
    await nc.flush();
    const online = await onlineSources(nc, orgId, { stallMs: 50, maxWaitMs: 500, instancesBucket: emptyBucket });
    expect(online.map((s) => s.source_id).sort()).toEqual(['half', 'ok']);
  });

  it('waits maxWaitMs from the last piece, not from the request: a list sent in slow pieces is gathered whole', async () => {
    const orgId = newOrg();
    instance(orgId, async (msg) => {
      for (let i = 0; i < 5; i++) {
        msg.respond(JSON.stringify({ sources: [source(`piece-${i}`)], instance_id: 'steady', more: i < 4 }));
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    });
    await nc.flush();
    // 5 pieces 300 ms apart take ~1.2 s, past a 1 s wait counted from the request.
    const online = await onlineSources(nc, orgId, { stallMs: 50, maxWaitMs: 1000, instancesBucket: emptyBucket });
    expect(online.map((s) => s.source_id)).toEqual(['piece-0', 'piece-1', 'piece-2', 'piece-3', 'piece-4']);
  });

  it('ends after maxTotalMs and keeps at most maxSources, however much an instance keeps sending', async () => {
    const orgId = newOrg();
    let sending = true;
    instance(orgId, async (msg) => {
      for (let i = 0; sending; i++) {
        msg.respond(
          JSON.stringify({ sources: Array.from({ length: 10 }, (_, k) => source(`flood-${i}-${k}`)), instance_id: 'flood', more: true }),
        );
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    await nc.flush();
    // Without maxTotalMs this never ends (the flood keeps the wait open): the test would time out.
    const online = await onlineSources(nc, orgId, {
      stallMs: 50,
      maxWaitMs: 200,
      maxTotalMs: 600,
      maxSources: 25,
      instancesBucket: emptyBucket,
    });
    sending = false;
    expect(online).toHaveLength(25);
  });
});

describe('onlineSources: the live instances listed in the instances bucket', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  /** Ids as realtime makes them: 12 hex characters. */
  const newInstanceId = () => randomBytes(6).toString('hex');

  /** An instance answering as realtime does, its first piece `delayMs` after the request (0: at once). */
  function realtimeInstance(orgId: string, instanceId: string, sourceIds: string[], delayMs = 0): void {
    instance(orgId, async (msg) => {
      if (delayMs) await sleep(delayMs);
      msg.respond(JSON.stringify({ sources: [], instance_id: instanceId, more: true }));
      msg.respond(JSON.stringify({ sources: sourceIds.map(source), instance_id: instanceId, more: false }));
    });
  }

  async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
    const started = performance.now();
    const value = await work;
    return { value, ms: performance.now() - started };
  }

  it('waits for a listed instance whose first piece comes long after another instance’s whole answer', async () => {
    const orgId = newOrg();
    const [idle, busy] = [newInstanceId(), newInstanceId()];
    const bucket = await instancesBucket([idle, busy]);
    realtimeInstance(orgId, idle, ['idle-1']);
    // A busy instance (20,000 devices, its event loop behind): not even its notice comes within the stall.
    realtimeInstance(orgId, busy, ['busy-1', 'busy-2'], 400);
    await nc.flush();
    const online = await onlineSources(nc, orgId, { stallMs: 100, maxWaitMs: 1000, instancesBucket: bucket });
    expect(online.map((s) => s.source_id).sort()).toEqual(['busy-1', 'busy-2', 'idle-1']);
  });

  it('ends at the stall once every listed instance has answered, an answer without pieces included', async () => {
    const orgId = newOrg();
    const [pieces, whole] = [newInstanceId(), newInstanceId()];
    const bucket = await instancesBucket([pieces, whole]);
    realtimeInstance(orgId, pieces, ['a']);
    instance(orgId, (msg) => msg.respond(JSON.stringify({ sources: [source('b')], instance_id: whole })));
    await nc.flush();
    const { value, ms } = await timed(onlineSources(nc, orgId, { stallMs: 100, maxWaitMs: 3000, instancesBucket: bucket }));
    expect(value.map((s) => s.source_id).sort()).toEqual(['a', 'b']);
    expect(ms).toBeLessThan(1500);
  });

  it('gives a listed instance that never answers (died within its lease) maxWaitMs from the last message, no more', async () => {
    const orgId = newOrg();
    const [alive, dead] = [newInstanceId(), newInstanceId()];
    const bucket = await instancesBucket([alive, dead]);
    realtimeInstance(orgId, alive, ['alive-1']);
    await nc.flush();
    const { value, ms } = await timed(onlineSources(nc, orgId, { stallMs: 100, maxWaitMs: 800, instancesBucket: bucket }));
    expect(value.map((s) => s.source_id)).toEqual(['alive-1']);
    // Waited for the dead one (the stall alone would end at ~100 ms), then gave up after maxWaitMs.
    expect(ms).toBeGreaterThanOrEqual(750);
    expect(ms).toBeLessThan(2000);
  });

  it('does not wait for an instance whose key was deleted (a clean stop) or purged', async () => {
    const orgId = newOrg();
    const [alive, stopped, purged] = [newInstanceId(), newInstanceId(), newInstanceId()];
    const bucket = await instancesBucket([alive, stopped, purged]);
    const kv = await new Kvm(nc).open(bucket);
    await kv.delete(stopped);
    await kv.purge(purged);
    realtimeInstance(orgId, alive, ['alive-1']);
    await nc.flush();
    const { value, ms } = await timed(onlineSources(nc, orgId, { stallMs: 100, maxWaitMs: 3000, instancesBucket: bucket }));
    expect(value.map((s) => s.source_id)).toEqual(['alive-1']);
    expect(ms).toBeLessThan(1500);
  });

  it('ignores keys that are no instance id and values realtime does not write, and never throws', async () => {
    const orgId = newOrg();
    const alive = newInstanceId();
    const bucket = await instancesBucket([alive]);
    const kv = await new Kvm(nc).open(bucket);
    const junkValues = ['', 'not json', 'null', '[]', '{}', '{"renewed_at":5}', '\u0000'.repeat(10), 'x'.repeat(100_000), '\xff\xfe'];
    const junkKeys = ['a.b', 'x'.repeat(65), '=eq', 'dot.ted.key', 'with/slash', 'a=b'];
    for (const [i, key] of junkKeys.entries()) await kv.put(key, '{"renewed_at":"2026-12-01T21:00:00.000Z"}'.slice(0, 40 - i));
    // Keys that look like instances none of which answers: waited for, each would cost maxWaitMs.
    for (const value of junkValues) await kv.put(newInstanceId(), value);
    await kv.put(newInstanceId(), new Uint8Array([0xff, 0xfe, 0x00]));
    realtimeInstance(orgId, alive, ['alive-1']);
    await nc.flush();
    const { value, ms } = await timed(onlineSources(nc, orgId, { stallMs: 100, maxWaitMs: 3000, instancesBucket: bucket }));
    expect(value.map((s) => s.source_id)).toEqual(['alive-1']);
    // None of them was waited for: ended at the stall after the one answer, not after maxWaitMs.
    expect(ms).toBeLessThan(1500);
  });

  it(`does not use a list of more than ${MAX_LISTED_INSTANCES} keys, nor a bucket that cannot be read`, async () => {
    const orgId = newOrg();
    const alive = newInstanceId();
    const crowded = await instancesBucket([alive]);
    const kv = await new Kvm(nc).open(crowded);
    await Promise.all(
      Array.from({ length: MAX_LISTED_INSTANCES }, () => kv.put(newInstanceId(), '{"renewed_at":"2026-12-01T21:00:00.000Z"}')),
    );
    realtimeInstance(orgId, alive, ['alive-1']);
    await nc.flush();
    for (const instancesBucket of [crowded, `PRESENCE_TEST_${randomBytes(4).toString('hex')}_MISSING`, 'not a bucket name']) {
      const { value, ms } = await timed(onlineSources(nc, orgId, { stallMs: 100, maxWaitMs: 3000, instancesBucket }));
      expect({ instancesBucket, online: value.map((s) => s.source_id) }).toEqual({ instancesBucket, online: ['alive-1'] });
      // As before the list: ended at the stall after the one answer, not after maxWaitMs.
      expect(ms).toBeLessThan(1500);
    }
  });
});
