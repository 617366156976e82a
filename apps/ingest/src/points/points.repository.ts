import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { type Aggregate, hasTimescale, pointCount, poolOf, type QueryPointsRequest, ROLLUP_SELECT, type SeriesPoints } from '#common';
import type { PointRow } from '../query/point-format.js';
import { ReadPool } from '../query/read-pool.js';
import { cursorRows } from '../query/row-cursor.js';
import { PointsCopyEncoder } from './copy-binary.js';
import { MINUTE_US, RollupBuilder, UPSERT_ROLLUPS, upsertRollupsFrom } from './rollup.js';

const UNIQUE_VIOLATION = '23505';
/** COPY buffers kept for reuse: one per concurrent writer. */
const SPARE_BUFFERS = 4;
const SPARE_BUFFER_MAX_BYTES = 64 * 1024 * 1024;

const STAGING = `
  CREATE TEMP TABLE IF NOT EXISTS points_staging (
    series_id integer, time timestamptz, value_num double precision, value_json jsonb
  ) ON COMMIT DELETE ROWS`;

const MOVE_STAGED = `INSERT INTO points SELECT * FROM points_staging ON CONFLICT DO NOTHING`;
const MOVE_STAGED_AND_ROLL_UP = `
  WITH inserted AS (${MOVE_STAGED} RETURNING series_id, time, value_num, value_json)
  ${upsertRollupsFrom(ROLLUP_SELECT)}`;

const TIME_US = (param: string) => `timestamptz 'epoch' + ${param}::bigint * interval '1 microsecond'`;

/** Point rows for output: JSON kept as text, written out as-is (point-format.ts). */
const POINT_COLUMNS = `extract(epoch FROM p.time)::float8 AS ts, s.source_id, s.metric, p.value_num, p.value_json::text AS value_json,
                       s.tags::text AS tags, s.session_id`;

/** Aggregates over rollup-shaped rows (`points_1m`, or raw points put in that shape). */
const AGGREGATE_SQL: Record<Aggregate, string> = {
  avg: 'sum(sum_num) / nullif(sum(n_num), 0)::float8',
  min: 'min(min_num)',
  max: 'max(max_num)',
  sum: 'sum(sum_num)',
  count: 'sum(n)::bigint',
  first: `((array_agg(coalesce(to_jsonb(first_num), first_json) ORDER BY first_time ASC))[1])::text`,
  last: `((array_agg(coalesce(to_jsonb(last_num), last_json) ORDER BY last_time DESC))[1])::text`,
};

/** Raw points of the selected series in the shape of a rollup row: one point is a minute of one. */
const RAW_AS_ROLLUP = `SELECT time AS t, 1 AS n, (value_num IS NOT NULL)::int AS n_num, value_num AS sum_num, value_num AS min_num, value_num AS max_num,
                              time AS first_time, value_num AS first_num, value_json AS first_json, time AS last_time, value_num AS last_num, value_json AS last_json
                         FROM points WHERE series_id IN (SELECT id FROM picked)`;
const ROLLUPS = `SELECT bucket AS t, n, n_num, sum_num, min_num, max_num, first_time, first_num, first_json, last_time, last_num, last_json
                   FROM points_1m WHERE series_id IN (SELECT id FROM picked)`;

/**
 * The one owner of the points SQL: writing (binary COPY, the identity rule, rollups), reading by
 * range and bucket, a session's statistics and export, retention. Every service of the ingest
 * app goes through it; the table shapes are in migrations/1732900000000-storage-v2.ts.
 */
@Injectable()
export class PointsRepository implements OnModuleInit {
  private readonly pool: pg.Pool;
  private readonly prepared = new WeakSet<pg.PoolClient>();
  private timescaleDb = false;
  /** COPY buffers of finished writes, reused: a new one per transaction (megabytes) made V8 collect its old generation over and over. */
  private readonly spareBuffers: Buffer[] = [];

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly reads: ReadPool,
  ) {
    this.pool = poolOf(dataSource);
  }

  async onModuleInit(): Promise<void> {
    this.timescaleDb = await hasTimescale(this.dataSource);
  }

  /** Whether `points` and `points_1m` are TimescaleDB hypertables. */
  get timescale(): boolean {
    return this.timescaleDb;
  }

  /**
   * Writes runs of points (the series of run i is seriesIds[i]) in one transaction. Fast path: binary COPY straight into points. If that meets
   * a point already stored (a redelivered message, a re-sent point), it rolls back to a savepoint
   * and takes the careful path: COPY into a session-local staging table, then INSERT … ON
   * CONFLICT DO NOTHING, so every point is stored once. The 1-minute rollups of exactly the
   * points inserted are merged in the same transaction.
   */
  async write(seriesIds: readonly number[], runs: readonly SeriesPoints[]): Promise<void> {
    const encoder = new PointsCopyEncoder(pointCount(runs) * 40 + 64, this.spareBuffers.pop());
    const rollups = new RollupBuilder();
    // By series: each series' rows go into the index one after another, on the same few pages,
    // not alternating between series message by message.
    const order = runs.map((_, r) => r).sort((a, b) => seriesIds[a] - seriesIds[b] || a - b);
    for (const r of order) {
      const seriesId = seriesIds[r];
      const { timesUs, nums, jsons } = runs[r];
      for (let i = 0; i < timesUs.length; i++) {
        const json = jsons === null ? null : jsons[i];
        const num = json === null ? nums[i] : null;
        encoder.add(seriesId, timesUs[i], num, json);
        rollups.add(seriesId, timesUs[i], num, json);
      }
    }
    const copy = encoder.finish();
    const client = await this.pool.connect();
    try {
      if (!this.prepared.has(client)) {
        await client.query(STAGING);
        this.prepared.add(client);
      }
      await client.query('BEGIN');
      await client.query('SAVEPOINT direct');
      try {
        await copyInto(client, 'points', copy);
        if (rollups.size) await client.query(UPSERT_ROLLUPS, rollups.parameters());
      } catch (error) {
        if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
        await client.query('ROLLBACK TO SAVEPOINT direct');
        await copyInto(client, 'points_staging', copy);
        await client.query(MOVE_STAGED_AND_ROLL_UP);
      }
      await client.query('COMMIT');
      client.release();
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(error as Error);
      throw error;
    } finally {
      // The COPY is over either way: its buffer serves the next write (one per writer at a time).
      if (this.spareBuffers.length < SPARE_BUFFERS && encoder.storage.length <= SPARE_BUFFER_MAX_BYTES)
        this.spareBuffers.push(encoder.storage);
    }
  }

  /** Raw points of one source and metric (every tag set and session), oldest first, in chunks of rows. */
  rawPoints(request: QueryPointsRequest): AsyncGenerator<PointRow[]> {
    const params: unknown[] = [request.org_id, request.source_id, request.metric, request.limit];
    const range = timeRange('time', params, request.from_us, request.to_us);
    // Each series gives at most `limit` rows in time order (its primary key), so the final sort
    // reads a bounded number of rows however long the series are.
    const sql = `SELECT ${POINT_COLUMNS}
                   FROM series s CROSS JOIN LATERAL (
                     SELECT time, value_num, value_json FROM points WHERE series_id = s.id${range} ORDER BY time LIMIT $4
                   ) p
                  WHERE s.org_id = $1 AND s.source_id = $2 AND s.metric = $3
                  ORDER BY p.time LIMIT $4`;
    return cursorRows<PointRow>(this.reads, sql, params);
  }

  /**
   * Buckets of `bucket_us` over one source and metric, oldest first. A bucket that is a whole
   * number of minutes is computed from the 1-minute rollups, with raw points only for the partial
   * minutes at the edges of the range; any other bucket from raw points. Both give the same answer.
   */
  buckets(request: QueryPointsRequest & { bucket_us: number }): AsyncGenerator<Array<{ ts: number; v: number | string | null }>> {
    const params: unknown[] = [request.org_id, request.source_id, request.metric, request.limit, request.bucket_us];
    const { from_us: from, to_us: to } = request;
    const fromMinute = from === undefined ? undefined : Math.ceil(from / MINUTE_US) * MINUTE_US;
    const toMinute = to === undefined ? undefined : Math.floor(to / MINUTE_US) * MINUTE_US;
    let parts: string;
    if (request.bucket_us % MINUTE_US === 0 && (fromMinute === undefined || toMinute === undefined || fromMinute < toMinute)) {
      const whole = timeRange('bucket', params, fromMinute, toMinute);
      const edges: string[] = [];
      if (from !== undefined && fromMinute !== from)
        edges.push(`(time >= ${TIME_US(param(params, from))} AND time < ${TIME_US(param(params, fromMinute))})`);
      if (to !== undefined && toMinute !== to)
        edges.push(`(time >= ${TIME_US(param(params, toMinute))} AND time < ${TIME_US(param(params, to))})`);
      parts = `${ROLLUPS}${whole}` + (edges.length ? ` UNION ALL ${RAW_AS_ROLLUP} AND (${edges.join(' OR ')})` : '');
    } else {
      parts = `${RAW_AS_ROLLUP}${timeRange('time', params, from, to)}`;
    }
    const sql = `WITH picked AS (SELECT id FROM series WHERE org_id = $1 AND source_id = $2 AND metric = $3),
                      parts AS (${parts})
                 SELECT extract(epoch FROM b)::float8 AS ts, v FROM (
                   SELECT date_bin($5::bigint * interval '1 microsecond', t, timestamptz 'epoch') AS b, ${AGGREGATE_SQL[request.agg]} AS v FROM parts GROUP BY 1
                 ) buckets ORDER BY b LIMIT $4`;
    return cursorRows(this.reads, sql, params);
  }

  /** How many points a session holds, of which metrics, from when to when. */
  async sessionStats(
    orgId: string,
    sessionId: string,
  ): Promise<{ pointCount: number; metrics: string[]; first: number | null; last: number | null }> {
    const [stats] = await this.reads.query<{
      point_count: string;
      metrics: string[];
      first_point_at: number | null;
      last_point_at: number | null;
    }>(
      `SELECT count(*)::bigint AS point_count,
              coalesce(array_agg(DISTINCT s.metric), '{}') AS metrics,
              extract(epoch FROM min(p.time))::float8 AS first_point_at,
              extract(epoch FROM max(p.time))::float8 AS last_point_at
         FROM series s JOIN points p ON p.series_id = s.id
        WHERE s.org_id = $1 AND s.session_id = $2`,
      [orgId, sessionId],
    );
    return {
      pointCount: Number(stats.point_count),
      metrics: [...stats.metrics].sort(),
      first: stats.first_point_at,
      last: stats.last_point_at,
    };
  }

  /** A session's points, oldest first (then by source and metric), in chunks of rows. */
  sessionPoints(orgId: string, sessionId: string): AsyncGenerator<PointRow[]> {
    return cursorRows<PointRow>(
      this.reads,
      `SELECT ${POINT_COLUMNS} FROM series s JOIN points p ON p.series_id = s.id
        WHERE s.org_id = $1 AND s.session_id = $2 ORDER BY p.time, s.source_id, s.metric`,
      [orgId, sessionId],
    );
  }

  /**
   * Plain PostgreSQL retention: deletes up to `batch` points older than the cutoff (rounded down
   * to the minute, so a minute's rollup goes with its last point), then the rollups of the minutes
   * wholly before it. Answers how many points went.
   */
  async deleteOlderThan(runner: { query(sql: string, params: unknown[]): Promise<unknown> }, days: number, batch: number): Promise<number> {
    const cutoff = `date_bin(interval '1 minute', now() - make_interval(days => $1), timestamptz 'epoch')`;
    const result = await runner.query(
      `DELETE FROM points WHERE ctid = ANY (ARRAY(SELECT ctid FROM points WHERE time < ${cutoff} LIMIT $2))`,
      [days, batch],
    );
    const count = Array.isArray(result) ? Number(result[1] ?? 0) : 0;
    if (count < batch) await runner.query(`DELETE FROM points_1m WHERE bucket < ${cutoff}`, [days]);
    return count;
  }

  /**
   * TimescaleDB: retention on points and their rollups, compression of points by series. Both
   * policies are replaced at every start, so a changed setting (or 0: none) takes effect.
   */
  async applyTimescalePolicies(retentionDays: number, compressAfterDays: number): Promise<void> {
    await this.dataSource.query(`SELECT remove_retention_policy('points', if_exists => true)`);
    await this.dataSource.query(`SELECT remove_retention_policy('points_1m', if_exists => true)`);
    await this.dataSource.query(`SELECT remove_compression_policy('points', if_exists => true)`);
    if (retentionDays) {
      await this.dataSource.query(`SELECT add_retention_policy('points', make_interval(days => $1))`, [retentionDays]);
      await this.dataSource.query(`SELECT add_retention_policy('points_1m', make_interval(days => $1))`, [retentionDays]);
    }
    if (compressAfterDays) {
      await this.dataSource.query(
        `ALTER TABLE points SET (timescaledb.compress, timescaledb.compress_segmentby = 'series_id', timescaledb.compress_orderby = 'time')`,
      );
      await this.dataSource.query(`SELECT add_compression_policy('points', make_interval(days => $1))`, [compressAfterDays]);
    }
  }
}

async function copyInto(client: pg.PoolClient, table: string, data: Buffer): Promise<void> {
  await pipeline(Readable.from([data]), client.query(copyFrom(`COPY ${table} FROM STDIN (FORMAT binary)`)));
}

/** Adds a parameter; answers its placeholder. */
function param(params: unknown[], value: unknown): string {
  params.push(value);
  return `$${params.length}`;
}

/** ` AND column >= from AND column < to` for the bounds given. */
function timeRange(column: string, params: unknown[], from: number | undefined, to: number | undefined): string {
  let sql = '';
  if (from !== undefined) sql += ` AND ${column} >= ${TIME_US(param(params, from))}`;
  if (to !== undefined) sql += ` AND ${column} < ${TIME_US(param(params, to))}`;
  return sql;
}
