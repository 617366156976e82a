import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Platform } from './support/platform.js';
import { PrivatePostgres } from './support/private-postgres.js';
import { waitFor } from './support/wait-for.js';

// PostgreSQL stopped (immediate: every connection cut, as in a crash) and started again under
// load, in a private cluster so the shared server is never restarted.
let postgres: PrivatePostgres;
let platform: Platform;

beforeAll(async () => {
  postgres = await PrivatePostgres.start();
  platform = await Platform.start({
    apps: ['pairing', 'ingest', 'gateway'],
    databaseRoot: postgres.root,
    // Small batches keep the writers holding connections (mid-COPY) most of the time.
    env: { PLEXUS_INGEST_BATCH_MESSAGES: '4', PLEXUS_INGEST_ACK_WAIT_MS: '5000' },
  });
}, 120_000);

afterAll(async () => {
  await platform?.stop().catch(() => undefined);
  await postgres?.destroy();
});

/** `/health/ready`: its status and, when not ready, which checks are down (from its message). */
async function readiness(port: number): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
  const body = (await response.json()) as { message?: string; checks?: unknown };
  return { status: response.status, text: body.message ?? JSON.stringify(body.checks) };
}

/** The sum of a counter's series in an app's /metrics, e.g. plexus_unexpected_errors_total. */
async function counter(port: number, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const series = new RegExp(`^${name}\\{[^}]*${labels}[^}]*\\} (\\d+)`, 'gm');
  return [...text.matchAll(series)].reduce((sum, match) => sum + Number(match[1]), 0);
}

/** An unhandled 'error' event (caught only by the last-resort process guard) is counted here. */
const unexpectedErrors = (port: number) => counter(port, 'plexus_unexpected_errors_total');

describe('PostgreSQL restarts', () => {
  it('under load: every point answered 200 is stored exactly once, no app dies, /health/ready goes 503 then 200', async () => {
    const accepted = new Set<number>();
    let sent = 0;
    let stopLoad = false;
    const failures: number[] = [];
    const client = async () => {
      while (!stopLoad) {
        const first = sent;
        sent += 20;
        const points = Array.from({ length: 20 }, (_, i) => ({
          metric: 'load',
          value: first + i,
          timestamp: 1_700_000_000 + (first + i) / 1000,
          source_id: 'pg-fault',
        }));
        const response = await platform.ingest(points);
        if (response.status === 200) for (const point of points) accepted.add(point.value);
        else failures.push(response.status);
      }
    };
    const load = [client(), client(), client(), client()];
    try {
      await waitFor(
        'points committed before the restart',
        async () => (await platform.count(`SELECT count(*) FROM telemetry WHERE source_id = 'pg-fault'`)) > 200,
      );

      await postgres.stop('immediate');
      const down = await waitFor('ingest to say the database is down', async () => {
        const ready = await readiness(platform.ports.ingest);
        return ready.status === 503 ? ready : undefined;
      });
      expect(down.text).toContain('"database":"down"');
      const pairingDown = await waitFor('pairing to say the database is down', async () => {
        const ready = await readiness(platform.ports.pairing);
        return ready.status === 503 ? ready : undefined;
      });
      expect(pairingDown.text).toContain('"database":"down"');
      const acceptedWhileDown = accepted.size;
      // JetStream keeps what the gateway acknowledges meanwhile.
      await waitFor('points accepted while PostgreSQL is down', () => accepted.size >= acceptedWhileDown + 200);

      await postgres.resume();
      await waitFor('ingest ready again', async () => (await readiness(platform.ports.ingest)).status === 200, 30_000);
      await waitFor('pairing ready again', async () => (await readiness(platform.ports.pairing)).status === 200, 30_000);
      const acceptedAfter = accepted.size;
      await waitFor('points accepted after the restart', () => accepted.size >= acceptedAfter + 200);
    } finally {
      stopLoad = true;
      await Promise.all(load);
    }

    expect(failures).toEqual([]);
    await platform.drained(60_000);
    const { rows } = await platform.db.query<{ value: number; copies: number }>(
      `SELECT value_num AS value, count(*)::int AS copies FROM telemetry WHERE source_id = 'pg-fault' GROUP BY 1`,
    );
    const stored = new Map(rows.map((row) => [row.value, row.copies]));
    const missing = [...accepted].filter((value) => !stored.has(value));
    expect(missing).toEqual([]);
    expect(rows.filter((row) => row.copies !== 1)).toEqual([]);
    expect(stored.size).toBe(accepted.size);
    expect(
      await platform.count(`SELECT sum(r.n) FROM points_1m r JOIN series s ON s.id = r.series_id WHERE s.source_id = 'pg-fault'`),
    ).toBe(accepted.size);

    expect(platform.alive('ingest')).toBe(true);
    expect(platform.alive('pairing')).toBe(true);
    expect(platform.alive('gateway')).toBe(true);
    // The apps survived on their own, not by the last-resort process guard catching an unhandled 'error'.
    expect(await unexpectedErrors(platform.ports.ingest)).toBe(0);
    expect(await unexpectedErrors(platform.ports.pairing)).toBe(0);
    // The writers did meet the outage (and retried: every point is stored above).
    expect(await counter(platform.ports.ingest, 'plexus_writer_failures_total', 'kind="database_unavailable"')).toBeGreaterThan(0);
  }, 120_000);

  it('an app started while PostgreSQL is down waits for it (logged) and becomes ready when it is back', async () => {
    await postgres.stop('immediate');
    let started: Promise<number> | undefined;
    try {
      started = platform.startCopy('ingest', 'ingest-late');
      started.catch(() => undefined);
      await waitFor(
        'the new ingest to say it waits for PostgreSQL',
        () => platform.logs.some((line) => line.startsWith('ingest-late |') && line.includes('waiting for PostgreSQL')),
        30_000,
      );
      expect(platform.alive('ingest-late')).toBe(true);
    } finally {
      await postgres.resume();
    }
    await started;
    expect((await readiness(platform.ports['ingest-late'])).status).toBe(200);
    expect(platform.alive('ingest-late')).toBe(true);
  }, 120_000);
});
