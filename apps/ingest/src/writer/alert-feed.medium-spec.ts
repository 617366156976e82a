import { beforeAll, describe, expect, it } from '@jest/globals';
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { mediumScope } from '../../../../test/support/medium.js';

// Medium: feedAlerts on the real JetStream — real telemetry messages in, the alert feed out: one
// summary per org of a committed batch (each storage series once, however many messages carried
// it), within the payload bound, each org apart, ids that make a batch fed twice land once.
const scope = await mediumScope();
const { feedAlerts } = await import('./alert-feed.js');
const { SeriesRuns } = await import('./point-rows.js');
const {
  ensureTelemetryStreams,
  encodeTelemetry,
  decodeTelemetryMessage,
  decodeFeedSummary,
  FEED_SUMMARY_ENCODING,
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
      Array.from({ length: points }, (_, i) => ({
        source_id: 'rig',
        metric: `m${i % 3}`,
        value: i % 7 === 6 ? 'text' : i,
        timestamp: 1000 + i,
      })),
      1 << 20,
    );
    for (const part of message) await js.publish(SUBJECTS.telemetry.forOrg(org), part, { headers: h });
  }
  return takeAll(requests.length);
}

/** Takes `count` messages of the telemetry stream with a consumer of its own (real JsMsgs). */
async function takeAll(count: number): Promise<JsMsg[]> {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const name = `feed-test-${Math.random().toString(36).slice(2)}`;
  await jsm.consumers.add(STREAMS.telemetry, { durable_name: name, ack_policy: AckPolicy.Explicit });
  const consumer = await js.consumers.get(STREAMS.telemetry, name);
  const messages: JsMsg[] = [];
  for await (const msg of await consumer.fetch({ max_messages: count, expires: 2000 })) messages.push(msg);
  // Acked for certain before the consumer goes: the stream is a work queue, and an ack still in flight would leave
  // the message for the next test's consumer.
  await Promise.all(messages.map((msg) => msg.ackAck()));
  await jsm.consumers.delete(STREAMS.telemetry, name);
  return messages;
}

/** The batch as the writer answers it once committed: its runs, and a storage series id per distinct series (as PostgreSQL would give). */
async function written(batch: JsMsg[]) {
  const runs = new SeriesRuns();
  for (const msg of batch) runs.add(await decodeTelemetryMessage(msg.data, msg.headers?.get(ENCODING_HEADER) || undefined));
  const ids = new Map<string, number>();
  const seriesIds = runs.keys.map((key) => ids.get(key) ?? (ids.set(key, ids.size + 1), ids.size));
  return { runs, seriesIds };
}

async function feedSince(seq: number) {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(STREAMS.alertFeed);
  const found = [];
  for (let s = seq + 1; s <= info.state.last_seq; s++) {
    const message = await jsm.streams.getMessage(STREAMS.alertFeed, { seq: s });
    if (!message) continue;
    expect(message.header?.get(ENCODING_HEADER)).toBe(FEED_SUMMARY_ENCODING);
    const summary = decodeFeedSummary(message.data);
    found.push({ subject: message.subject, org: summary.orgId, series: summary.series, bytes: message.data.length });
  }
  return found;
}

const lastFeedSeq = async () => (await (await jetstreamManager(nc)).streams.info(STREAMS.alertFeed)).state.last_seq;

describe('feedAlerts (real JetStream)', () => {
  it('summarises a batch per org and storage series, apart from other orgs, every point counted once', async () => {
    const before = await lastFeedSeq();
    const batch = await batchOf([
      ['org-a', 10],
      ['org-b', 5],
      ['org-a', 20],
      ['org-a', 30],
    ]);
    await feedAlerts(jetstream(nc), batch, await written(batch), 1 << 20);
    const fed = await feedSince(before);
    expect(fed.map(({ subject, org }) => ({ subject, org }))).toEqual([
      { subject: SUBJECTS.alerts.feed('org-a'), org: 'org-a' },
      { subject: SUBJECTS.alerts.feed('org-b'), org: 'org-b' },
    ]);
    // org-a: three messages of 10, 20 and 30 points over metrics m0, m1, m2 — one entry per series.
    const a = fed[0].series.sort((x, y) => x.metric.localeCompare(y.metric));
    expect(a.map((s) => s.metric)).toEqual(['m0', 'm1', 'm2']);
    expect(a.reduce((n, s) => n + s.count, 0)).toBe(60);
    // m0 got i = 0, 3, 6 … of each message, at 1000 + i s; i % 7 === 6 went as text (6 in each, and 27 of
    // the 30): 21 points, 17 numbers from 0 to 24, the latest number at 1024 s, the latest point (text) at 1027 s.
    const m0 = a[0];
    expect(m0).toEqual({
      seriesId: m0.seriesId,
      sourceId: 'rig',
      metric: 'm0',
      tags: '',
      count: 21,
      firstUs: 1000e6,
      latestUs: 1027e6,
      numbers: 17,
      min: 0,
      max: 24,
      latestNumberUs: 1024e6,
    });
    expect(fed[1].series.reduce((n, s) => n + s.count, 0)).toBe(5);
    // The same batch fed again (a redelivery after a crash before the ack) stores nothing new.
    await feedAlerts(jetstream(nc), batch, await written(batch), 1 << 20);
    expect(await lastFeedSeq()).toBe(before + 2);
  });

  it('stays within the payload bound: the entries of a large batch go in several messages', async () => {
    const before = await lastFeedSeq();
    const js = jetstream(nc);
    const h = headers();
    h.set(ENCODING_HEADER, BATCH_ENCODING);
    const points = Array.from({ length: 300 }, (_, i) => ({ source_id: `rig-${i}`, metric: 'temperature', value: i }));
    for (const part of encodeTelemetry('org-c', Date.now() * 1000, points, 1 << 20))
      await js.publish(SUBJECTS.telemetry.forOrg('org-c'), part, { headers: h });
    const batch = await takeAll(1);
    await feedAlerts(js, batch, await written(batch), 1024 + 8 * 1024);
    const fed = await feedSince(before);
    expect(fed.length).toBeGreaterThan(1);
    for (const message of fed) expect(message.bytes).toBeLessThanOrEqual(8 * 1024);
    expect(fed.flatMap((message) => message.series.map((s) => s.sourceId)).sort()).toEqual(points.map((p) => p.source_id).sort());
  });
});
