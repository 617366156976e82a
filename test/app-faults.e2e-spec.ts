import { afterAll, describe, expect, it } from '@jest/globals';
import type { AppName } from '../scripts/platform-process.js';
import { PrivateNatsServer } from './support/nats-server.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';

// kill -9 of each app in turn, then of NATS, while several HTTP clients send telemetry: every
// point answered 200 is in the points table exactly once at the end, and every app is ready.
// The test restarts what it kills, as `npm start` (or Kubernetes) would. Clients retry whatever
// is not a 200 — 503 while NATS is away, connection refused while the gateway is down — with the
// same Idempotency-Key, as the contract tells clients to.

const SOURCE = 'fault-load';
const CLIENTS = 4;
const POINTS_PER_REQUEST = 20;
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

describe('app faults under load', () => {
  it('loses no acknowledged point across kill -9 of gateway, ingest, pairing, realtime and a NATS restart', async () => {
    const nats = await PrivateNatsServer.start();
    cleanups.push(() => nats.destroy());
    // A pull that was in flight when ingest or NATS went away is redelivered after the ack wait: keep it short.
    const platform = await Platform.start({
      natsUrl: nats.url,
      env: { PLEXUS_INGEST_ACK_WAIT_MS: '2000', PLEXUS_INGEST_BATCH_MESSAGES: '16' },
    });
    cleanups.push(() => platform.stop());

    const acknowledged: number[] = [];
    const statuses = new Map<string, number>();
    let nextValue = 0;
    let running = true;
    const client = async (clientId: number) => {
      for (let request = 0; running; request++) {
        const values = Array.from({ length: POINTS_PER_REQUEST }, () => nextValue++);
        const points = values.map((value) => ({ metric: 'load', value, timestamp: 1700000000 + value / 1000, source_id: SOURCE }));
        const idempotencyKey = `c${clientId}-r${request}`;
        // Until it is acknowledged: a request is never given up, or its points could be stored unacknowledged.
        for (;;) {
          const status = await platform
            .ingest(points, { headers: { 'idempotency-key': idempotencyKey } })
            .then(async (response) => (await response.arrayBuffer(), String(response.status)))
            .catch((error: Error) => (error.cause as { code?: string } | undefined)?.code ?? 'network error');
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status === '200') break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        acknowledged.push(...values);
      }
    };
    const load = Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));

    /** Waits until the clients have had more requests acknowledged, so each fault hits a platform under load. */
    const progress = async (what: string) => {
      const before = acknowledged.length;
      await waitFor(
        `points acknowledged ${what}`,
        () => acknowledged.length >= before + CLIENTS * POINTS_PER_REQUEST * 3,
        60_000,
        () => JSON.stringify(Object.fromEntries(statuses)),
      );
    };

    for (const app of ['gateway', 'ingest', 'pairing', 'realtime'] as AppName[]) {
      await progress(`before ${app} is killed`);
      expect(await platform.stopApp(app, 'SIGKILL')).toBeNull();
      await platform.startApp(app);
    }
    await progress('before NATS is killed');
    await nats.stop();
    await nats.resume();
    await progress('after NATS is back');
    running = false;
    await load;

    // Every app came back by itself and says it is ready.
    for (const [app, port] of Object.entries(platform.ports)) {
      await waitFor(`${app} ready`, async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200, 30_000);
    }
    await platform.drained(60_000);
    const { rows } = await platform.db.query<{ value: number; copies: number }>(
      `SELECT value_num AS value, count(*)::int AS copies FROM telemetry WHERE source_id = $1 GROUP BY value_num`,
      [SOURCE],
    );
    const copies = new Map(rows.map((row) => [Number(row.value), row.copies]));
    const missing = acknowledged.filter((value) => !copies.has(value));
    const duplicated = rows.filter((row) => row.copies !== 1);
    expect({ missing: missing.slice(0, 10), missingCount: missing.length, duplicated: duplicated.slice(0, 10) }).toEqual({
      missing: [],
      missingCount: 0,
      duplicated: [],
    });
    expect(acknowledged.length).toBeGreaterThan(15 * CLIENTS * POINTS_PER_REQUEST);
    // The faults were felt: some requests were refused or cut off and retried.
    expect([...statuses.keys()].some((status) => status !== '200')).toBe(true);
  }, 240_000);
});
