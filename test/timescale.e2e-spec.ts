import { afterAll, beforeAll, expect, it } from '@jest/globals';
import pg from 'pg';
import { PG_ROOT, Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';
import { openDatabase } from '../libs/common/src/database/database.js';
import { MIGRATIONS } from '../libs/common/src/database/migrations/index.js';
import {
  AGGREGATES,
  type Bucket,
  createV1Database,
  describeOnTimescale,
  dropDatabase,
  expectedBuckets,
  rounded,
  type Sent,
} from './support/timescale.js';

// The TimescaleDB path of storage v2 (hypertables `points` and `points_1m`, the rollups kept by
// the writer in the points' transaction, compression by series, retention). Runs where the test server has TimescaleDB installed and
// preloaded: the compose stack's database, or a private cluster built as docs/operations.md
// ("TimescaleDB") says, e.g. `PLEXUS_TEST_DATABASE_ROOT=postgres://postgres@127.0.0.1:55433`.
// Debian's PostgreSQL on the CI machine has no TimescaleDB package: skipped there, where
// test/retention.e2e-spec.ts and the query tests cover the plain path.
const onTimescale = await describeOnTimescale();

const MINUTE = 60;
const HOUR = 3600;
async function query(platform: Platform, params: Record<string, string | number>): Promise<Bucket[]> {
  const search = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
  const response = await platform.api(`/api/query?${search}`);
  const body = await response.text();
  if (response.status !== 200) throw new Error(`/api/query?${search} answered ${response.status}: ${body}`);
  return (JSON.parse(body) as { points: Bucket[] }).points;
}

interface Range {
  bucket: '1m' | '1h';
  fromMs: number;
  toMs: number;
}

/** Every aggregate over each range, answered by the API and computed from `sent`. */
async function compareWithRaw(platform: Platform, sourceId: string, metric: string, sent: Sent[], ranges: Range[]): Promise<void> {
  for (const { bucket, fromMs, toMs } of ranges) {
    for (const agg of AGGREGATES) {
      const answered = await query(platform, {
        source_id: sourceId,
        metric,
        from: fromMs / 1000,
        to: toMs / 1000,
        bucket,
        agg,
        limit: 100_000,
      });
      const expected = expectedBuckets(sent, fromMs, toMs, bucket === '1m' ? MINUTE : HOUR, agg);
      expect(expected.length).toBeGreaterThan(1);
      expect({ bucket, agg, points: rounded(answered) }).toEqual({ bucket, agg, points: rounded(expected) });
    }
  }
}

/** A value of point i: mostly numbers (negative too), every 11th a string. */
function valueOf(i: number): number | string {
  return i % 11 === 0 ? `s${i}` : ((i * 7919) % 2001) / 10 - 100;
}

onTimescale('storage v2 on TimescaleDB', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await Platform.start({
      apps: ['pairing', 'ingest', 'gateway'],
      env: { PLEXUS_RETENTION_DAYS: '30', PLEXUS_COMPRESS_AFTER_DAYS: '7' },
    });
    // TimescaleDB runs a retention policy once as soon as it is added, then a day later. Points
    // older than the 30 days kept (the epoch-alignment points of 2023 below) would be dropped
    // if that first run came after them: wait for it.
    await waitFor('the first run of both retention policies', () =>
      platform
        .count(
          `SELECT count(*) FROM timescaledb_information.jobs j JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
          WHERE j.proc_name = 'policy_retention' AND j.hypertable_name IN ('points', 'points_1m') AND s.total_successes + s.total_failures > 0`,
        )
        .then((finished) => finished === 2),
    );
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it('makes points a hypertable of 1-day chunks and keeps the identity rule: a point sent twice is stored once', async () => {
    const { rows } = await platform.db.query(
      `SELECT d.time_interval::text AS chunk FROM timescaledb_information.hypertables h
         JOIN timescaledb_information.dimensions d USING (hypertable_schema, hypertable_name)
        WHERE h.hypertable_name = 'points'`,
    );
    expect(rows).toEqual([{ chunk: '1 day' }]);
    const point = { metric: 'm', value: 1, timestamp: 1700000000, source_id: 'ts-dup' };
    expect((await platform.ingest([point])).status).toBe(200);
    expect((await platform.ingest([point])).status).toBe(200);
    await platform.drained();
    expect(await platform.count(`SELECT count(*) FROM telemetry WHERE source_id = 'ts-dup'`)).toBe(1);
    expect(await platform.count(`SELECT count(*) FROM series WHERE source_id = 'ts-dup'`)).toBe(1);
    expect(await query(platform, { source_id: 'ts-dup', metric: 'm', bucket: '1m', agg: 'count' })).toEqual([
      { timestamp: 1699999980, value: 1 },
    ]);
  });

  it('keeps the identity rule in a compressed chunk: a point sent again is stored once, a new one lands', async () => {
    const tenDaysAgo = Math.floor(Date.now() / 86_400_000 - 10) * 86_400_000 + 12 * HOUR * 1000;
    const point = { metric: 'm', value: 5, timestamp: tenDaysAgo, source_id: 'ts-compressed' };
    expect((await platform.ingest([point])).status).toBe(200);
    await platform.drained();
    const { rows } = await platform.db.query(
      `SELECT compress_chunk(c, if_not_compressed => true)::text AS chunk FROM show_chunks('points', older_than => interval '7 days') c`,
    );
    expect(rows.length).toBeGreaterThan(0);
    const compressed = await platform.count(
      `SELECT count(*) FROM timescaledb_information.chunks
        WHERE hypertable_name = 'points' AND is_compressed AND range_start <= to_timestamp($1 / 1000.0) AND range_end > to_timestamp($1 / 1000.0)`,
      [tenDaysAgo],
    );
    expect(compressed).toBe(1);

    expect((await platform.ingest([point, { ...point, timestamp: tenDaysAgo + 1, value: 6 }])).status).toBe(200);
    await platform.drained();
    const { rows: stored } = await platform.db.query(
      `SELECT (extract(epoch FROM time) * 1000)::float8 AS ms, value FROM telemetry WHERE source_id = 'ts-compressed' ORDER BY time`,
    );
    expect(stored).toEqual([
      { ms: tenDaysAgo, value: 5 },
      { ms: tenDaysAgo + 1, value: 6 },
    ]);
  });

  it('buckets aligned to the Unix epoch, as on plain PostgreSQL', async () => {
    // One point a second over three minutes from 1700000020; weekly buckets show the alignment.
    const points = Array.from({ length: 180 }, (_, i) => ({ metric: 'temp', value: i, timestamp: 1700000020 + i, source_id: 'ts-q' }));
    expect((await platform.ingest(points)).status).toBe(200);
    await platform.drained();
    expect(await query(platform, { source_id: 'ts-q', metric: 'temp', bucket: '1m', agg: 'count' })).toEqual([
      { timestamp: 1699999980, value: 20 },
      { timestamp: 1700000040, value: 60 },
      { timestamp: 1700000100, value: 60 },
      { timestamp: 1700000160, value: 40 },
    ]);
    // 1700000020 lies in the epoch-aligned week starting 1699488000 (a Thursday, like 1970-01-01).
    expect(await query(platform, { source_id: 'ts-q', metric: 'temp', bucket: '1w', agg: 'max' })).toEqual([
      { timestamp: 1699488000, value: 179 },
    ]);
  });

  it('keeps points_1m as a hypertable of 7-day chunks, holding every point written', async () => {
    const { rows } = await platform.db.query(
      `SELECT d.time_interval::text AS chunk FROM timescaledb_information.dimensions d WHERE d.hypertable_name = 'points_1m'`,
    );
    expect(rows).toEqual([{ chunk: '7 days' }]);
    expect(await platform.count(`SELECT coalesce(sum(n), 0) FROM points_1m`)).toBe(await platform.count(`SELECT count(*) FROM points`));
  });

  // Four series of one source and metric (three tag sets, one session) over four hours, a point
  // every 6 s at odd milliseconds; the ranges start and end inside minutes.
  const base = (Math.floor(Date.now() / 1000 / HOUR) - 5) * HOUR * 1000;
  const tagSets = [{ dev: 'a' }, { dev: 'b' }, { dev: 'c' }, { dev: 'a' }];
  const sent: Sent[] = Array.from({ length: 2400 }, (_, i) => ({
    ms: base + i * 6000 + (i % 5) * 137 + 250,
    value: valueOf(i),
    tags: tagSets[i % 4],
    ...(i % 4 === 3 ? { session_id: 'ts-run-1' } : {}),
  }));
  const fromMs = base + 37_250;
  const toMs = base + 3 * HOUR * 1000 + 20 * 60_000 + 13_500;
  const ranges: Range[] = [
    { bucket: '1m', fromMs, toMs },
    { bucket: '1h', fromMs, toMs },
  ];
  const toIngest = (points: Sent[]) =>
    points.map(({ ms, value, tags, session_id }) => ({
      metric: 'mix',
      source_id: 'ts-roll',
      timestamp: ms,
      value,
      tags,
      ...(session_id ? { session_id } : {}),
    }));

  it('answers 1m and 1h buckets as computed from the raw points', async () => {
    expect((await platform.ingest(toIngest(sent))).status).toBe(200);
    await platform.drained();
    expect(await platform.count(`SELECT count(*) FROM telemetry WHERE source_id = 'ts-roll'`)).toBe(sent.length);
    expect(await platform.count(`SELECT count(*) FROM series WHERE source_id = 'ts-roll'`)).toBe(4);

    await compareWithRaw(platform, 'ts-roll', 'mix', sent, ranges);
    // Whole range, no edges.
    const all = await query(platform, { source_id: 'ts-roll', metric: 'mix', bucket: '1h', agg: 'count' });
    expect(all).toEqual(expectedBuckets(sent, 0, Number.MAX_SAFE_INTEGER, HOUR, 'count'));
  }, 120_000);

  it('answers late points at once, in minutes the rollups already hold', async () => {
    // A device uploading what it buffered offline, a batch redelivered after a database outage:
    // a new first, a new last, new extremes and a string, at the edges and in the middle of the
    // range of the previous test (its points are the rest of the data). A continuous aggregate
    // would take them in only at its next refresh; the writer merges them in the transaction
    // that stores them.
    const late: Sent[] = [
      { ms: base + 37_300, value: 9999, tags: { dev: 'late' } },
      { ms: base + 60_000, value: -9999, tags: { dev: 'late' } },
      { ms: base + HOUR * 1000 + 30_001, value: 'late-string', tags: { dev: 'a' } },
      { ms: base + 2 * HOUR * 1000 - 1, value: 12345.5, tags: { dev: 'b' } },
      { ms: toMs - 1, value: -0.5, tags: { dev: 'late' } },
    ];
    expect((await platform.ingest(toIngest(late))).status).toBe(200);
    await platform.drained();
    await compareWithRaw(platform, 'ts-roll', 'mix', [...sent, ...late], ranges);
  }, 120_000);

  it('compresses points segmented by series and ordered by time', async () => {
    const { rows } = await platform.db.query(
      `SELECT attname, segmentby_column_index, orderby_column_index, orderby_asc
         FROM timescaledb_information.compression_settings WHERE hypertable_name = 'points'
        ORDER BY segmentby_column_index NULLS LAST, orderby_column_index`,
    );
    expect(rows).toEqual([
      { attname: 'series_id', segmentby_column_index: 1, orderby_column_index: null, orderby_asc: null },
      { attname: 'time', segmentby_column_index: null, orderby_column_index: 1, orderby_asc: true },
    ]);
  });

  it('installs retention and compression policies on points, retention on points_1m', async () => {
    const { rows } = await platform.db.query(
      `SELECT hypertable_name, proc_name, coalesce(config->>'drop_after', config->>'compress_after') AS after
         FROM timescaledb_information.jobs WHERE hypertable_name IN ('points', 'points_1m') ORDER BY 1, 2`,
    );
    expect(rows).toEqual([
      { hypertable_name: 'points', proc_name: 'policy_compression', after: '7 days' },
      { hypertable_name: 'points', proc_name: 'policy_retention', after: '30 days' },
      { hypertable_name: 'points_1m', proc_name: 'policy_retention', after: '30 days' },
    ]);
  });
});

onTimescale('upgrading a v1 database on TimescaleDB to storage v2', () => {
  const database = `plexus_test_v1_${process.pid}_${Date.now().toString(36)}`;
  // Ten days up to the last full hour, so that all of it is kept (30 days) and some is old
  // enough to be compressed (7 days).
  const base = (Math.floor(Date.now() / 1000 / HOUR) - 10 * 24) * HOUR * 1000;
  const POINTS = 57_600;
  let url: string;
  let db: pg.Client;
  let platform: Platform | undefined;
  /** v1's rows as JSON text (time in µs), sorted. */
  let v1Rows: string[];
  /** The default org's points of source v1-rig, metric temp. */
  const temps: Sent[] = [];

  const ROWS_SQL = (table: string) =>
    `SELECT json_build_array((extract(epoch FROM time) * 1e6)::bigint, org_id, source_id, metric, value_num, value_json, tags, session_id)::text AS row FROM ${table}`;

  /** The v2 apps, started on the upgraded database. */
  async function startPlatform(): Promise<Platform> {
    platform ??= await Platform.start({
      apps: ['pairing', 'ingest', 'gateway'],
      env: { DATABASE_URL: url, PLEXUS_RETENTION_DAYS: '30', PLEXUS_COMPRESS_AFTER_DAYS: '7' },
    });
    return platform;
  }

  beforeAll(async () => {
    url = await createV1Database(database);
    db = new pg.Client({ connectionString: url });
    await db.connect();
    expect(
      await db.query(`SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = 'points'`).then((r) => r.rowCount),
    ).toBe(1);

    // v1 rows as v1's writer stored them: a point every 15 s for 10 days in two orgs, ten
    // series (tag sets, a session), numbers, strings and objects.
    const rows: Array<[number, string, string, string, number | null, string | null, string, string]> = [];
    for (let i = 0; i < POINTS; i++) {
      const ms = base + i * 15_000 + (i % 7);
      const value = valueOf(i);
      const org = i % 10 === 9 ? 'acme' : 'default';
      const metric = i % 3 === 2 ? 'state' : 'temp';
      const tags = JSON.stringify(i % 2 ? { room: 'a', floor: '1' } : {});
      const session = i % 5 === 0 ? 'v1-run' : '';
      const json =
        typeof value === 'string'
          ? JSON.stringify(value)
          : metric === 'state' && i % 4 === 0
            ? JSON.stringify({ on: i % 8 === 0, at: i })
            : null;
      const num = json === null ? (value as number) : null;
      rows.push([ms * 1000, org, 'v1-rig', metric, num, json, tags, session]);
      if (org === 'default' && metric === 'temp')
        temps.push({ ms, value: num ?? (JSON.parse(json as string) as string), tags: JSON.parse(tags) });
    }
    for (let at = 0; at < rows.length; at += 10_000) {
      const chunk = rows.slice(at, at + 10_000);
      await db.query(
        `INSERT INTO points (time, org_id, source_id, metric, value_num, value_json, tags, session_id)
         SELECT timestamptz 'epoch' + t * interval '1 microsecond', o, s, m, n, j::jsonb, g::jsonb, e
           FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::text[], $7::text[], $8::text[]) AS u(t, o, s, m, n, j, g, e)`,
        chunk[0].map((_, column) => chunk.map((row) => row[column])),
      );
    }
    // What v1's ingest app set up on TimescaleDB, and compressed chunks as its policy leaves them.
    await db.query(
      `ALTER TABLE points SET (timescaledb.compress, timescaledb.compress_segmentby = 'org_id, source_id, metric', timescaledb.compress_orderby = 'time')`,
    );
    await db.query(`SELECT add_compression_policy('points', interval '7 days')`);
    await db.query(`SELECT add_retention_policy('points', interval '30 days')`);
    const { rowCount } = await db.query(
      `SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('points', older_than => interval '7 days') c`,
    );
    expect(rowCount).toBeGreaterThan(0);
    v1Rows = (await db.query(ROWS_SQL('points'))).rows.map((r) => r.row as string).sort();
    expect(v1Rows).toHaveLength(POINTS);

    // The upgrade, as every app that owns tables runs it when it starts (openDatabase).
    const upgraded = await openDatabase(url, []);
    await upgraded.destroy();
  }, 300_000);

  afterAll(async () => {
    await platform?.stop();
    await db?.end().catch(() => undefined);
    if (!process.env.PLEXUS_TEST_KEEP_DATABASE) await dropDatabase(database, PG_ROOT);
  });

  it('rolls the migrated points up into points_1m', async () => {
    expect((await db.query(`SELECT sum(n)::int AS n FROM points_1m`)).rows).toEqual([{ n: POINTS }]);
  });

  it('moves every v1 point into series and points, seen unchanged through the telemetry view', async () => {
    // Every migration ran, storage v2's once (later ones, such as the alerts tables, follow it).
    const { rows } = await db.query(`SELECT name FROM plexus_migrations ORDER BY id`);
    expect(rows.map((row) => row.name)).toEqual(MIGRATIONS.map((migration) => migration.name));
    expect(rows.filter((row) => /^StorageV2/.test(row.name))).toHaveLength(1);
    expect((await db.query(`SELECT to_regclass('points_v1') AS left_over`)).rows).toEqual([{ left_over: null }]);
    const after = (await db.query(ROWS_SQL('telemetry'))).rows.map((r) => r.row as string).sort();
    expect(after.length).toBe(v1Rows.length);
    expect(after).toEqual(v1Rows);
    const series = await db.query(
      `SELECT count(*)::int AS n FROM (SELECT DISTINCT org_id, source_id, metric, session_id, tags FROM telemetry) s`,
    );
    expect(series.rows).toEqual([{ n: 10 }]);
    expect(await db.query(`SELECT count(*)::int AS n FROM series`).then((r) => r.rows)).toEqual(series.rows);
  });

  it('gives the v2 shape on TimescaleDB once the apps run: points and points_1m hypertables, v1 policies gone with v1 table', async () => {
    await startPlatform();
    const { rows: tables } = await db.query(`SELECT hypertable_name FROM timescaledb_information.hypertables ORDER BY 1`);
    expect(tables).toEqual([{ hypertable_name: 'points' }, { hypertable_name: 'points_1m' }]);
    const { rows } = await db.query(
      `SELECT hypertable_name, proc_name FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL ORDER BY 1, 2`,
    );
    expect(rows).toEqual([
      { hypertable_name: 'points', proc_name: 'policy_compression' },
      { hypertable_name: 'points', proc_name: 'policy_retention' },
      { hypertable_name: 'points_1m', proc_name: 'policy_retention' },
    ]);
  }, 120_000);

  it('answers queries over the migrated points as computed from the v1 rows', async () => {
    const running = await startPlatform();
    // Hours over a week, minutes over six hours of it; neither range starts or ends on a minute.
    const ranges: Range[] = [
      { bucket: '1h', fromMs: base + 2 * 86_400_000 + 12_345, toMs: base + 9 * 86_400_000 + 3 * HOUR * 1000 + 59_999 },
      { bucket: '1m', fromMs: base + 8 * 86_400_000 + 20_500, toMs: base + 8 * 86_400_000 + 6 * HOUR * 1000 + 41_001 },
    ];
    await compareWithRaw(running, 'v1-rig', 'temp', temps, ranges);
    expect(await query(running, { source_id: 'v1-rig', metric: 'temp', bucket: '1d', agg: 'count', limit: 100 })).toEqual(
      expectedBuckets(temps, 0, Number.MAX_SAFE_INTEGER, 86_400, 'count'),
    );
  }, 180_000);
});
