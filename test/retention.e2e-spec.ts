import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Platform } from './support/platform.js';
import { timescaleAvailable } from './support/timescale.js';
import { waitFor } from './support/wait-for.js';

// On TimescaleDB retention is a policy instead (test/timescale.e2e-spec.ts).
const onPlainPostgres = (await timescaleAvailable()) ? describe.skip : describe;

let platform: Platform;

onPlainPostgres('retention on plain PostgreSQL', () => {
  beforeAll(async () => {
    platform = await Platform.start({
      apps: ['pairing', 'ingest', 'gateway'],
      env: { PLEXUS_RETENTION_DAYS: '2', PLEXUS_RETENTION_CHECK_SECONDS: '1' },
    });
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it('deletes points older than the retention period in batches while ingest goes on', async () => {
    // 20,000 expired points (more than one deletion batch) and their rollups, written straight into the tables.
    await platform.db.query(`
      WITH s AS (INSERT INTO series (org_id, source_id, metric) VALUES ('default', 'old-1', 'm') RETURNING id)
      INSERT INTO points (series_id, time, value_num)
      SELECT s.id, now() - interval '3 days' - n * interval '1 second', n FROM s, generate_series(1, 20000) AS n`);
    await platform.db.query(`
      INSERT INTO points_1m (series_id, bucket, n, n_num, sum_num, first_time, last_time)
      SELECT series_id, date_bin(interval '1 minute', time, timestamptz 'epoch'), count(*), count(*), sum(value_num), min(time), max(time)
        FROM telemetry WHERE source_id = 'old-1' GROUP BY 1, 2`);
    const now = Date.now() / 1000;
    for (let i = 0; i < 20; i++) {
      const points = Array.from({ length: 100 }, (_, j) => ({
        metric: 'm',
        value: i * 100 + j,
        timestamp: now - 86_400 + i + j / 1000,
        source_id: 'new-1',
      }));
      expect((await platform.ingest(points)).status).toBe(200);
    }
    await platform.drained();
    await waitFor(
      'expired points deleted',
      async () => (await platform.count(`SELECT count(*) FROM telemetry WHERE source_id = 'old-1'`)) === 0,
      30_000,
    );
    expect(await platform.count(`SELECT count(*) FROM telemetry WHERE source_id = 'new-1'`)).toBe(2000);
    await waitFor(
      'expired rollups deleted',
      async () =>
        (await platform.count(`SELECT count(*) FROM points_1m r JOIN series s ON s.id = r.series_id WHERE s.source_id = 'old-1'`)) === 0,
    );
    expect(await platform.count(`SELECT sum(r.n) FROM points_1m r JOIN series s ON s.id = r.series_id WHERE s.source_id = 'new-1'`)).toBe(
      2000,
    );
    const { rows } = await platform.db.query(
      `SELECT indexname FROM pg_indexes WHERE tablename = 'points' AND indexname = 'points_time_brin'`,
    );
    expect(rows).toHaveLength(1);
  }, 60_000);
});
