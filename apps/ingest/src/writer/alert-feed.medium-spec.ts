import { beforeAll, describe, expect, it } from '@jest/globals';
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { mediumScope } from '../../../../test/support/medium.js';

// Medium: feedAlerts on the real JetStream — real telemetry messages in, the alert feed out:
// one org's messages of a batch together within the payload bound, each org apart, ids that make
// a batch fed twice land once.
const scope = await mediumScope();
const { feedAlerts } = await import('./alert-feed.js');
const {
  ensureTelemetryStreams,
  encodeTelemetry,
  decodeTelemetryMessage,
  splitFeedMessage,
  FEED_ENCODING,
  BATCH_ENCODING,
  ENCODING_HEADER,
  STREAMS,
  SUBJECTS,
} = await import('#common');

let nc: NatsConnection;

beforeAll(async () => {
  nc = await scope.nats();
  await ensureTelemetryStreams(nc, { idempotencyWindowSeconds: 600, streamReplicas: 1 });
});

/** Publishes requests to the telemetry stream as the gateway does and takes them back as a batch (real JsMsgs). */
async function batchOf(requests: Array<[string, number]>): Promise<JsMsg[]> {
  const js = jetstream(nc);
  const h = headers();
  h.set(ENCODING_HEADER, BATCH_ENCODING);
  for (const [org, points] of requests) {
    const message = encodeTelemetry(
      org,
      Date.now() * 1000,
      Array.from({ length: points }, (_, i) => ({ source_id: 'rig', metric: `m${i % 3}`, value: i })),
      1 << 20,
    );
    for (const part of message) await js.publish(SUBJECTS.telemetry.forOrg(org), part, { headers: h });
  }
  const jsm = await jetstreamManager(nc);
  const name = `feed-test-${Math.random().toString(36).slice(2)}`;
  await jsm.consumers.add(STREAMS.telemetry, { durable_name: name, ack_policy: AckPolicy.Explicit });
  const consumer = await js.consumers.get(STREAMS.telemetry, name);
  const messages: JsMsg[] = [];
  for await (const msg of await consumer.fetch({ max_messages: requests.length, expires: 2000 })) messages.push(msg);
  // Acked for certain before the consumer goes: the stream is a work queue, and an ack still in flight would leave
  // the message for the next test's consumer.
  await Promise.all(messages.map((msg) => msg.ackAck()));
  await jsm.consumers.delete(STREAMS.telemetry, name);
  return messages;
}

async function feedSince(seq: number) {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(STREAMS.alertFeed);
  const found = [];
  for (let s = seq + 1; s <= info.state.last_seq; s++) {
    const message = await jsm.streams.getMessage(STREAMS.alertFeed, { seq: s });
    if (!message) continue;
    const encoding = message.header?.get(ENCODING_HEADER);
    const parts = encoding === FEED_ENCODING ? splitFeedMessage(message.data) : [{ data: message.data, encoding }];
    const batches = [];
    for (const part of parts) batches.push(await decodeTelemetryMessage(part.data, part.encoding));
    found.push({
      subject: message.subject,
      encoding,
      orgs: batches.map((batch) => batch.orgId),
      points: batches.map((batch) => batch.series.reduce((n, series) => n + series.timesUs.length, 0)),
    });
  }
  return found;
}

const lastFeedSeq = async () => (await (await jetstreamManager(nc)).streams.info(STREAMS.alertFeed)).state.last_seq;

describe('feedAlerts (real JetStream)', () => {
  it('feeds a batch’s messages of each org together, apart from other orgs, every point once', async () => {
    const before = await lastFeedSeq();
    const batch = await batchOf([
      ['org-a', 10],
      ['org-b', 5],
      ['org-a', 20],
      ['org-a', 30],
    ]);
    await feedAlerts(jetstream(nc), batch, 1 << 20);
    const fed = await feedSince(before);
    expect(fed).toEqual([
      { subject: SUBJECTS.alerts.feed('org-a'), encoding: FEED_ENCODING, orgs: ['org-a', 'org-a', 'org-a'], points: [10, 20, 30] },
      { subject: SUBJECTS.alerts.feed('org-b'), encoding: BATCH_ENCODING, orgs: ['org-b'], points: [5] },
    ]);
    // The same batch fed again (a redelivery after a crash before the ack) stores nothing new.
    await feedAlerts(jetstream(nc), batch, 1 << 20);
    expect(await lastFeedSeq()).toBe(before + 2);
  });

  it('stays within the payload bound: a group is cut where the next message would not fit', async () => {
    const before = await lastFeedSeq();
    const batch = await batchOf([
      ['org-c', 400],
      ['org-c', 400],
      ['org-c', 400],
    ]);
    const one = batch[0].data.length;
    // Room for two messages and the headers' allowance, not three.
    await feedAlerts(jetstream(nc), batch, 1024 + 2 * (one + 40) + 8);
    const fed = await feedSince(before);
    expect(fed.map((message) => message.points)).toEqual([[400, 400], [400]]);
  });
});
