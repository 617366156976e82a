import { beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { type Aggregate, openDatabase, pointCount, ROLLUP_SELECT, type TelemetryBatch } from '#common';
import type { PointsRepository as Points } from './points.repository.js';
import type { PointsWriter as Writer } from '../writer/points-writer.service.js';
import { mediumScope } from '../../../../test/support/medium.js';
import { telemetryBatch } from '../../../../test/support/telemetry.js';

// Medium test of the points repository against the real PostgreSQL (its own database): the
// identity rule, rollups kept exactly by both write paths, and bucketed answers from rollups
// equal to the same aggregates over raw points.
const scope = await mediumScope();
const { PointsRepository } = await import('./points.repository.js');
const { SeriesRepository } = await import('./series.repository.js');
const { PointsWriter } = await import('../writer/points-writer.service.js');
const { ReadPool } = await import('../query/read-pool.js');
const { readIngestConfig } = await import('../config.js');

let dataSource: DataSource;
let db: pg.Client;
let reads: InstanceType<typeof ReadPool>;
let points: Points;
let writer: Writer;

/** 20 s into a minute: bucket edges fall inside minutes. */
const BASE = 1_700_000_000;
const minute = (s: number) => Math.floor(s / 60) * 60;

beforeAll(async () => {
  dataSource = await openDatabase(scope.databaseUrl, [], 4);
  db = new pg.Client({ connectionString: scope.databaseUrl });
  await db.connect();
  reads = new ReadPool(readIngestConfig({ DATABASE_URL: scope.databaseUrl }));
  points = new PointsRepository(dataSource, reads);
  await points.onModuleInit();
  writer = new PointsWriter(new SeriesRepository(dataSource), points);
});

scope.onTeardown(async () => {
  await reads?.onApplicationShutdown();
  await dataSource?.destroy();
  await db?.end();
});

function message(pointsOf: unknown[]): TelemetryBatch {
  return telemetryBatch('org-1', 1_700_000_000_000_000, pointsOf);
}

async function all<T>(rows: AsyncGenerator<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const chunk of rows) out.push(...chunk);
  return out;
}

/** 12 minutes of one metric under two tag sets and a session, irregular times, some values not numbers. */
function batches(): TelemetryBatch[][] {
  const made: TelemetryBatch[][] = [];
  for (let b = 0; b < 6; b++) {
    const pointsOf = [];
    for (let i = 0; i < 120; i++) {
      const t = BASE + b * 120 + i + (i % 7) / 10;
      const value = i % 17 === 0 ? 'calibrating' : i % 29 === 0 ? { raw: i } : Math.sin(t) * 100;
      pointsOf.push({ metric: 'temp', value, timestamp: t, source_id: 'rig', tags: i % 3 ? { probe: 'a' } : { probe: 'b', rack: '2' } });
      // Never at the same time as another series' point: first/last would then be either.
      if (i % 10 === 0) pointsOf.push({ metric: 'temp', value: i, timestamp: t + 0.05, source_id: 'rig', session_id: 'run-1' });
    }
    made.push([message(pointsOf.slice(0, 70)), message(pointsOf.slice(70))]);
  }
  return made;
}

describe('PointsRepository (real PostgreSQL)', () => {
  const written = batches();

  beforeAll(async () => {
    for (const batch of written) await writer.write(batch);
    // Re-sent: a whole batch again, and a batch holding a point twice (the careful path, twice).
    await writer.write(written[2]);
    await writer.write([written[4][0], written[4][0], written[5][1]]);
  });

  it('stores each point once, in one series per tag set and session', async () => {
    const expected = written.flat().reduce((n, m) => n + pointCount(m.series), 0);
    expect(Number((await db.query('SELECT count(*) FROM points')).rows[0].count)).toBe(expected);
    const { rows } = await db.query(`SELECT session_id, tags::text FROM series ORDER BY 1, 2`);
    expect(rows).toEqual([
      { session_id: '', tags: '{"probe": "a"}' },
      { session_id: '', tags: '{"rack": "2", "probe": "b"}' },
      { session_id: 'run-1', tags: '{}' },
    ]);
    expect((await db.query(`SELECT status FROM sessions WHERE id = 'run-1'`)).rows).toEqual([{ status: 'active' }]);
  });

  it('keeps the rollups equal to the rollup of the stored points, duplicates never counted', async () => {
    const cols =
      'series_id, bucket, n, n_num, min_num, max_num, first_time, first_num, first_json::text, last_time, last_num, last_json::text';
    const kept = await db.query(`SELECT ${cols}, sum_num FROM points_1m ORDER BY 1, 2`);
    const recomputed = await db.query(`SELECT ${cols}, sum_num FROM (${ROLLUP_SELECT} FROM points GROUP BY 1, 2) r ORDER BY 1, 2`);
    expect(kept.rows.length).toBeGreaterThan(20);
    expect(kept.rows.map(({ sum_num: _sum, ...rest }) => rest)).toEqual(recomputed.rows.map(({ sum_num: _sum, ...rest }) => rest));
    kept.rows.forEach((row, i) =>
      row.sum_num === null ? expect(recomputed.rows[i].sum_num).toBeNull() : expect(row.sum_num).toBeCloseTo(recomputed.rows[i].sum_num, 6),
    );
  });

  const RAW: Record<Aggregate, string> = {
    avg: 'avg(value_num)',
    min: 'min(value_num)',
    max: 'max(value_num)',
    sum: 'sum(value_num)',
    count: 'count(*)',
    first: '((array_agg(coalesce(to_jsonb(value_num), value_json) ORDER BY time))[1])::text',
    last: '((array_agg(coalesce(to_jsonb(value_num), value_json) ORDER BY time DESC))[1])::text',
  };

  it.each([
    ['whole minutes, edges inside minutes', 60, BASE + 61.3, BASE + 600.55],
    ['5-minute buckets, edges inside minutes', 300, BASE + 17.2, BASE + 690.1],
    ['whole minutes, no bounds', 60, undefined, undefined],
    ['whole minutes, aligned bounds', 120, minute(BASE) + 120, minute(BASE) + 480],
    ['a range within one minute', 60, BASE + 130.5, BASE + 150.5],
    ['10-second buckets (raw points)', 10, BASE + 3.5, BASE + 200],
  ])('answers buckets (%s) as the same aggregates over raw points do', async (_what, bucketSeconds, from, to) => {
    for (const agg of Object.keys(RAW) as Aggregate[]) {
      const request = {
        org_id: 'org-1',
        source_id: 'rig',
        metric: 'temp',
        agg,
        limit: 10_000,
        bucket_us: bucketSeconds * 1e6,
        from_us: from === undefined ? undefined : Math.round(from * 1e6),
        to_us: to === undefined ? undefined : Math.round(to * 1e6),
      };
      const answered = await all(points.buckets(request));
      const params: unknown[] = [bucketSeconds];
      let where = `org_id = 'org-1' AND source_id = 'rig' AND metric = 'temp'`;
      if (from !== undefined) where += ` AND time >= to_timestamp($${params.push(from)}::float8)`;
      if (to !== undefined) where += ` AND time < to_timestamp($${params.push(to)}::float8)`;
      const { rows: expected } = await db.query(
        `SELECT extract(epoch FROM b)::float8 AS ts, v FROM (
           SELECT date_bin($1::int * interval '1 second', time, timestamptz 'epoch') AS b, ${RAW[agg]} AS v FROM telemetry WHERE ${where} GROUP BY 1
         ) x ORDER BY b`,
        params,
      );
      expect(answered.map((r) => r.ts)).toEqual(expected.map((r) => r.ts));
      answered.forEach((row, i) => {
        const want = expected[i].v;
        if (agg === 'avg' || agg === 'sum') {
          if (want === null) expect(row.v).toBeNull();
          else expect(Number(row.v)).toBeCloseTo(Number(want), 6);
        } else {
          expect(row.v === null ? null : String(row.v)).toBe(want === null ? null : String(want));
        }
      });
    }
  });

  it('reads raw points of every series of a metric in time order, limited', async () => {
    const rows = await all(
      points.rawPoints({ org_id: 'org-1', source_id: 'rig', metric: 'temp', agg: 'avg', limit: 50, from_us: (BASE + 100) * 1e6 }),
    );
    expect(rows).toHaveLength(50);
    expect(rows.map((r) => r.ts)).toEqual([...rows.map((r) => r.ts)].sort((a, b) => a - b));
    expect(rows[0].ts).toBeGreaterThanOrEqual(BASE + 100);
    expect(new Set(rows.map((r) => r.tags)).size).toBeGreaterThan(1);
    expect(rows.some((r) => r.session_id === 'run-1')).toBe(true);
  });

  it('keeps the series cache within its byte bound and resolves a batch of more new series than it holds', async () => {
    // 1,200 series whose tags take ~32,000 characters each: ~77 MB of keys against a 64 MiB cache.
    const tags = JSON.stringify(
      Object.fromEntries(Array.from({ length: 32 }, (_, t) => [`t${String(t).padStart(2, '0')}`, 'v'.repeat(990)])),
    );
    const identities = Array.from({ length: 1200 }, (_, i) => ({ orgId: 'org-1', sourceId: 'wide', metric: `m${i}`, sessionId: '', tags }));
    const keys = identities.map((s) => Object.values(s).join('\u0000'));
    const series = new SeriesRepository(dataSource);
    const ids = await series.resolve(keys, (i) => identities[i]);
    expect(new Set(ids).size).toBe(1200);
    const cache = (series as unknown as { cache: { calculatedSize: number; size: number } }).cache;
    expect(cache.calculatedSize).toBeLessThanOrEqual(64 * 1024 * 1024);
    expect(cache.size).toBeLessThan(1200);
    // Evicted ones are found again in the table, with the same ids.
    expect(await series.resolve(keys, (i) => identities[i])).toEqual(ids);
  }, 60_000);

  it('gives one id per series when several ingest instances create the same new series at once', async () => {
    const identities = Array.from({ length: 50 }, (_, i) => ({
      orgId: 'org-1',
      sourceId: `race-${i % 5}`,
      metric: `m${i}`,
      sessionId: '',
      tags: i % 2 ? '{"k":"v"}' : '',
    }));
    const keys = identities.map((s) => Object.values(s).join('\u0000'));
    const instances = Array.from({ length: 4 }, () => new SeriesRepository(dataSource));
    const answers = await Promise.all(
      instances.map((series, n) =>
        series.resolve(n % 2 ? [...keys].reverse() : keys, (i) => (n % 2 ? [...identities].reverse() : identities)[i]),
      ),
    );
    const [first, second, third, fourth] = answers;
    expect(second.reverse()).toEqual(first);
    expect(third).toEqual(first);
    expect(fourth.reverse()).toEqual(first);
    expect(new Set(first).size).toBe(50);
    expect(Number((await db.query(`SELECT count(*) FROM series WHERE source_id LIKE 'race-%'`)).rows[0].count)).toBe(50);
  });
});
