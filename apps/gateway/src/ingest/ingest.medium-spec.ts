import { beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { FastifyRequest } from 'fastify';
import { type InProcessApp, mediumScope, startInProcess } from '../../../../test/support/medium.js';
import type { IngestController as Ingest } from './ingest.controller.js';

// Medium: the gateway's ingest path in process on the real NATS — the controller validates and
// the publisher stores one JetStream message per request, resolving only once it is stored.
// The subjects under test are the contract between gateway and ingest: `<prefix>.telemetry.<org>`
// on the stream `<prefix>_TELEMETRY`.
const scope = await mediumScope();
const { ApiModule: AppModule } = await import('../api.module.js');
const { IngestController } = await import('./ingest.controller.js');
const { BATCH_ENCODING, decodeTelemetryMessage, ENCODING_HEADER, pointCount } = await import('#common');

const principal = { org_id: 'default', org_name: 'default', key_id: 'k-1', scopes: ['write' as const] };
const STREAM = `${scope.prefix}_TELEMETRY`;

let gateway: InProcessApp;
let ingest: Ingest;
let jsm: JetStreamManager;

beforeAll(async () => {
  gateway = await startInProcess(AppModule);
  ingest = gateway.get(IngestController);
  jsm = await jetstreamManager(await scope.nats());
});
scope.onTeardown(() => gateway?.close());

function request(correlationId = 'corr-1'): FastifyRequest {
  return { correlationId } as unknown as FastifyRequest;
}

async function stored(): Promise<number> {
  return (await jsm.streams.info(STREAM)).state.messages;
}

/** The last message on the stream: its subject, headers and decoded points. */
async function last() {
  const info = await jsm.streams.info(STREAM);
  const message = await jsm.streams.getMessage(STREAM, { seq: info.state.last_seq });
  if (!message) throw new Error('no message on the stream');
  const encoding = message.header?.get(ENCODING_HEADER) || undefined;
  const batch = await decodeTelemetryMessage(message.data, encoding);
  return { subject: message.subject, correlationId: message.header?.get('Plexus-Correlation-Id'), encoding, batch };
}

const point = { metric: 'temperature', value: 21.5, timestamp: 1_700_000_000, source_id: 'rig-1' };

describe('gateway ingest → JetStream (real NATS)', () => {
  it('stores an accepted request as one binary message on the org’s subject, points by series, with its correlation id', async () => {
    const body = { points: [point, { ...point, value: 'warming up', tags: { room: 'lab' } }] };
    const before = await stored();
    expect(await ingest.ingest(body, request('corr-raw'), principal)).toEqual({ success: true, accepted: 2 });
    expect(await stored()).toBe(before + 1);
    const message = await last();
    expect(message.subject).toBe(`${scope.prefix}.telemetry.default`);
    expect(message.correlationId).toBe('corr-raw');
    expect(message.encoding).toBe(BATCH_ENCODING);
    expect(message.batch).toMatchObject({ orgId: 'default', receivedAtUs: expect.any(Number) });
    expect(message.batch.series.map((s) => ({ ...s, timesUs: Array.from(s.timesUs), nums: Array.from(s.nums) }))).toEqual([
      { sourceId: 'rig-1', metric: 'temperature', sessionId: '', tags: '', timesUs: [1_700_000_000_000_000], nums: [21.5], jsons: null },
      {
        sourceId: 'rig-1',
        metric: 'temperature',
        sessionId: '',
        tags: '{"room":"lab"}',
        timesUs: [1_700_000_000_000_000],
        nums: [NaN],
        jsons: ['"warming up"'],
      },
    ]);
  });

  it('stores a request retried with the same Idempotency-Key once, and the same key of another org apart', async () => {
    const body = { points: [point] };
    const before = await stored();
    await ingest.ingest(body, request(), principal, 'retry-7');
    await ingest.ingest(body, request(), principal, 'retry-7');
    expect(await stored()).toBe(before + 1);
    await ingest.ingest(body, request(), { ...principal, org_id: 'acme', org_name: 'Acme' }, 'retry-7');
    expect(await stored()).toBe(before + 2);
  });

  it('puts an org id that NATS would read as several tokens into one subject token', async () => {
    const body = { points: [point] };
    await ingest.ingest(body, request(), { ...principal, org_id: 'a.b>*' });
    expect((await last()).subject).toBe(`${scope.prefix}.telemetry.a%002eb%003e%002a`);
  });

  it('splits a body past the broker’s max payload into messages that together hold every point', async () => {
    // About 1.6 MB of distinct strings: more than one 1 MiB message.
    const points = Array.from({ length: 4000 }, (_, i) => ({
      ...point,
      value: `${i}:${(i * 2654435761).toString(36).repeat(12)}`,
      timestamp: 1_700_000_000 + i,
    }));
    const body = { points };
    const before = await stored();
    expect(await ingest.ingest(body, request(), principal)).toEqual({ success: true, accepted: 4000 });
    const after = await stored();
    expect(after).toBeGreaterThan(before);
    let total = 0;
    const info = await jsm.streams.info(STREAM);
    for (let seq = info.state.last_seq - (after - before) + 1; seq <= info.state.last_seq; seq++) {
      const message = await jsm.streams.getMessage(STREAM, { seq });
      const batch = await decodeTelemetryMessage(message!.data, message!.header?.get(ENCODING_HEADER) || undefined);
      total += pointCount(batch.series);
    }
    expect(total).toBe(4000);
  });

  it.each<[string, unknown, string]>([
    ['no body', undefined, 'INVALID_BODY'],
    ['points not a list', { points: 'many' }, 'INVALID_BODY'],
    ['an empty list', { points: [] }, 'INVALID_BODY'],
    ['a point without metric', { points: [{ value: 1 }] }, 'INVALID_BODY'],
    ['a metric with NUL', { points: [{ ...point, metric: 'a\u0000b' }] }, 'INVALID_BODY'],
    ['a timestamp past year 9999', { points: [{ ...point, timestamp: 1e16 }] }, 'INVALID_BODY'],
    ['10,001 points', { points: Array.from({ length: 10_001 }, () => point) }, 'PAYLOAD_TOO_LARGE'],
    ['a prototype-polluting key', JSON.parse('{"points":[{"metric":"m","value":1,"__proto__":{"x":1}}]}'), 'INVALID_BODY'],
  ])('refuses %s and stores nothing', async (_, body, code) => {
    const before = await stored();
    await expect(ingest.ingest(body, request(), principal)).rejects.toMatchObject({ code });
    expect(await stored()).toBe(before);
  });

  it.each(['', 'with space', 'é', 'k'.repeat(257), 'line\nbreak'])(
    'refuses an Idempotency-Key %j (BAD_REQUEST) and stores nothing',
    async (key) => {
      const body = { points: [point] };
      const before = await stored();
      await expect(ingest.ingest(body, request(), principal, key)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      expect(await stored()).toBe(before);
    },
  );
});
