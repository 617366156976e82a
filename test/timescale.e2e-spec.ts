import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Platform } from './support/platform.js';
import { timescaleAvailable } from './support/timescale.js';

// The TimescaleDB path: runs where the test server has the extension, e.g. the compose stack's
// database (`docker compose up -d timescaledb nats`, then
// `PLEXUS_TEST_DATABASE_ROOT=postgres://postgres:plexus@127.0.0.1:5432 npm test` with its port
// published). Debian's PostgreSQL on the CI machine has no TimescaleDB package: skipped there,
// where test/retention.e2e-spec.ts and the query tests cover the plain path.
const onTimescale = (await timescaleAvailable()) ? describe : describe.skip;

let platform: Platform;

onTimescale('on TimescaleDB', () => {
  beforeAll(async () => {
    platform = await Platform.start({ apps: ['pairing', 'ingest', 'gateway'], env: { PLEXUS_RETENTION_DAYS: '30', PLEXUS_COMPRESS_AFTER_DAYS: '7' } });
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it('makes points a hypertable and keeps the identity rule: a point sent twice is stored once', async () => {
    expect(await platform.count(`SELECT count(*) FROM timescaledb_information.hypertables WHERE hypertable_name = 'points'`)).toBe(1);
    const point = { metric: 'm', value: 1, timestamp: 1700000000, source_id: 'ts-dup' };
    expect((await platform.ingest([point])).status).toBe(200);
    expect((await platform.ingest([point])).status).toBe(200);
    await platform.drained();
    expect(await platform.count(`SELECT count(*) FROM points WHERE source_id = 'ts-dup'`)).toBe(1);
  });

  it('buckets with time_bucket aligned to the Unix epoch, as on plain PostgreSQL', async () => {
    // One point a second over three minutes from 1700000020; weekly buckets show the alignment.
    const points = Array.from({ length: 180 }, (_, i) => ({ metric: 'temp', value: i, timestamp: 1700000020 + i, source_id: 'ts-q' }));
    expect((await platform.ingest(points)).status).toBe(200);
    await platform.drained();
    const minute = (await (await platform.api('/api/query?source_id=ts-q&metric=temp&bucket=1m&agg=count')).json()) as { points: Array<{ timestamp: number; value: number }> };
    expect(minute.points).toEqual([
      { timestamp: 1699999980, value: 20 },
      { timestamp: 1700000040, value: 60 },
      { timestamp: 1700000100, value: 60 },
      { timestamp: 1700000160, value: 40 },
    ]);
    const week = (await (await platform.api('/api/query?source_id=ts-q&metric=temp&bucket=1w&agg=max')).json()) as { points: Array<{ timestamp: number; value: number }> };
    // 1700000020 lies in the epoch-aligned week starting 1699488000 (a Thursday, like 1970-01-01).
    expect(week.points).toEqual([{ timestamp: 1699488000, value: 179 }]);
  });

  it('installs the retention and compression policies', async () => {
    const { rows } = await platform.db.query(`SELECT proc_name FROM timescaledb_information.jobs WHERE hypertable_name = 'points' ORDER BY proc_name`);
    expect(rows.map((row) => row.proc_name)).toEqual(['policy_compression', 'policy_retention']);
  });
});
