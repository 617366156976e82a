import { afterAll, describe, expect, it } from '@jest/globals';
import { Plexus } from '../apps/agent/src/sdk/index.js';
import { PrivateNatsServer } from './support/nats-server.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('the SDK against the real stack', () => {
  it('lands points with send and sendBatch, and retries through a 503 while NATS is down', async () => {
    const nats = await PrivateNatsServer.start();
    cleanups.push(() => nats.destroy());
    const platform = await Platform.start({
      apps: ['pairing', 'ingest', 'gateway'],
      natsUrl: nats.url,
      env: { PLEXUS_INGEST_ACK_WAIT_MS: '2000' },
    });
    cleanups.push(() => platform.stop());
    const px = new Plexus({
      apiKey: platform.adminKey,
      sourceId: 'sdk-1',
      endpoint: platform.gateway,
      retry: { maxRetries: 30, baseDelayMs: 200, maxDelayMs: 1000 },
    });
    cleanups.push(() => px.close());

    await px.send('temperature', 72.5, { tags: { room: 'lab' } });
    await px.sendBatch([['humidity', 40], { metric: 'state', value: 'idle' }]);

    await nats.stop();
    // The gateway now answers 503; the SDK keeps retrying until NATS is back.
    const statuses: number[] = [];
    await waitFor('the gateway to refuse', async () => {
      const response = await platform.ingest([{ metric: 'probe', value: 1, source_id: 'probe' }]);
      statuses.push(response.status);
      return response.status === 503 || undefined;
    });
    const pending = px.sendBatch([{ metric: 'after-outage', value: 1 }]);
    await nats.resume();
    expect(await pending).toEqual({ accepted: 1 });

    await platform.drained();
    const { rows } = await platform.db.query(
      `SELECT metric, value_num, value_json, tags FROM telemetry WHERE source_id = 'sdk-1' ORDER BY metric`,
    );
    expect(rows).toEqual([
      { metric: 'after-outage', value_num: 1, value_json: null, tags: {} },
      { metric: 'humidity', value_num: 40, value_json: null, tags: {} },
      { metric: 'state', value_num: null, value_json: 'idle', tags: {} },
      { metric: 'temperature', value_num: 72.5, value_json: null, tags: { room: 'lab' } },
    ]);
    expect(statuses).toContain(503);
  }, 120_000);
});
