import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { SUBJECTS } from '../subjects.js';
import type { OnlineSource } from '../wire/index.js';
import { onlineSources } from './presence.js';

// Against the shared NATS server; each test asks for an org of its own, so no other run answers.
const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';
let nc: NatsConnection;
const subscriptions: Subscription[] = [];

beforeAll(async () => {
  nc = await connect({ servers: NATS_URL });
});

afterAll(async () => {
  for (const subscription of subscriptions) subscription.unsubscribe();
  await nc.close();
});

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
    expect(await onlineSources(nc, newOrg())).toEqual([]);
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
    const online = await onlineSources(nc, orgId, { stallMs: 100, maxWaitMs: 5000 });
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
    const online = await onlineSources(nc, orgId, { stallMs: 50, maxWaitMs: 500 });
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
    const online = await onlineSources(nc, orgId, { stallMs: 50, maxWaitMs: 1000 });
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
    const online = await onlineSources(nc, orgId, { stallMs: 50, maxWaitMs: 200, maxTotalMs: 600, maxSources: 25 });
    sending = false;
    expect(online).toHaveLength(25);
  });
});
