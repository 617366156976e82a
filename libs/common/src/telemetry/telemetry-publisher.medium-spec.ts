import { describe, expect, it } from '@jest/globals';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { mediumScope } from '../../../../test/support/medium.js';

// Medium: the publisher on the real NATS (this file's prefix and streams). No ingest app runs,
// so the telemetry stream keeps every message it stored, to be read back and counted.
const scope = await mediumScope();
const { BrokerConnection } = await import('../nats/connection.js');
const { readSharedConfig } = await import('../config/shared-config.js');
const { STREAMS, SUBJECTS } = await import('../subjects.js');
const { TelemetryPublisher } = await import('./telemetry-publisher.service.js');
const { decodeTelemetryBatch } = await import('./telemetry-decode.js');
const { pointCount } = await import('./series-points.js');

const config = readSharedConfig();
const broker = await BrokerConnection.open(config.nats, 'publisher-medium');
scope.onTeardown(() => broker.nc.close());
const publisher = new TelemetryPublisher(broker, config);
await publisher.onModuleInit();
const jsm: JetStreamManager = await jetstreamManager(broker.nc);

const RECEIVED_AT_US = 1_700_000_000_000_000;
let requests = 0;

/** A request of `count` points of its own source, published; resolves as the publisher does. */
function send(orgId: string, count: number, idempotencyKey?: string): { source: string; stored: Promise<void> } {
  const source = `src-${++requests}`;
  const points = Array.from({ length: count }, (_, i) => ({ metric: 'm', value: i, source_id: source, timestamp: 1_700_000_000 + i }));
  return {
    source,
    stored: publisher.publish(
      orgId,
      { points, receivedAtUs: RECEIVED_AT_US + requests },
      { correlationId: `c-${requests}`, idempotencyKey },
    ),
  };
}

/** The org's messages in the stream, oldest first, as the sources of their series and their points. */
async function messagesOf(orgId: string): Promise<Array<{ sources: string[]; points: number }>> {
  const subject = SUBJECTS.telemetry.forOrg(orgId);
  const info = await jsm.streams.info(STREAMS.telemetry);
  const out: Array<{ sources: string[]; points: number }> = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const message = await jsm.streams.getMessage(STREAMS.telemetry, { seq }).catch(() => null);
    if (!message || message.subject !== subject) continue;
    const batch = decodeTelemetryBatch(message.data);
    out.push({ sources: batch.series.map((s) => s.sourceId), points: pointCount(batch.series) });
  }
  return out;
}

describe('TelemetryPublisher: group commit per org (real NATS)', () => {
  it('stores the requests that arrive while one of their org is in flight together, as one message, each answered once stored', async () => {
    const first = send('org-join', 3);
    const waiting = [send('org-join', 2), send('org-join', 1), send('org-join', 4)];
    await Promise.all([first.stored, ...waiting.map((w) => w.stored)]);
    expect(await messagesOf('org-join')).toEqual([
      { sources: [first.source], points: 3 },
      { sources: waiting.map((w) => w.source), points: 7 },
    ]);
  });

  it('never joins a request with an Idempotency-Key, nor requests of different orgs', async () => {
    const first = send('org-keys', 1);
    const keyed = send('org-keys', 2, 'key-1');
    const other = send('org-other', 3);
    const last = send('org-keys', 4);
    await Promise.all([first, keyed, other, last].map((r) => r.stored));
    // The keyed request again: JetStream drops the duplicate, as before.
    await publisher.publish(
      'org-keys',
      { points: [{ metric: 'm', value: 1, source_id: 'again' }], receivedAtUs: RECEIVED_AT_US },
      { correlationId: 'again', idempotencyKey: 'key-1' },
    );
    const keys = await messagesOf('org-keys');
    expect(keys.map((m) => m.sources)).toEqual(expect.arrayContaining([[first.source], [keyed.source], [last.source]]));
    expect(keys).toHaveLength(3);
    expect(await messagesOf('org-other')).toEqual([{ sources: [other.source], points: 3 }]);
  });

  it('fails every request that waited for a message JetStream did not store, and takes the next ones once it is back', async () => {
    await jsm.streams.delete(STREAMS.telemetry);
    const refused = [send('org-fail', 1), send('org-fail', 2), send('org-fail', 3)];
    const outcomes = await Promise.all(
      refused.map((r) =>
        r.stored.then(
          () => 'stored',
          (error: { code?: string }) => error.code,
        ),
      ),
    );
    expect(outcomes).toEqual(['SERVICE_UNAVAILABLE', 'SERVICE_UNAVAILABLE', 'SERVICE_UNAVAILABLE']);
    await publisher.onModuleInit();
    const after = [send('org-fail', 1), send('org-fail', 2)];
    await Promise.all(after.map((r) => r.stored));
    expect(await messagesOf('org-fail')).toEqual([
      { sources: [after[0].source], points: 1 },
      { sources: [after[1].source], points: 2 },
    ]);
  });
});
