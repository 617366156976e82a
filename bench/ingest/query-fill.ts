/**
 * Fills one storage v2 series with many points by binary COPY straight into `points`, then
 * computes its `points_1m` rollups with SQL, as the writer would have kept them. For the query
 * bench (bench/ingest/query.ts): loading ten million points through HTTP would take minutes and
 * measure ingest, not queries.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { ROLLUP_SELECT } from '#common';
import { encodeNarrowRows, type NarrowRow } from './binary-copy.js';

export interface SeriesFill {
  seriesId: number;
  points: number;
  /** Unix microseconds of the first point; points are evenly spaced. */
  fromUs: number;
  stepUs: number;
}

/** A daily cycle plus deterministic noise: every bucket has a distinct avg and max. */
export function valueAt(i: number, pointsPerDay: number): number {
  return 20 + 5 * Math.sin((2 * Math.PI * i) / pointsPerDay) + (((i * 7919) % 1000) - 500) / 1000;
}

function* rows(fill: SeriesFill): Generator<NarrowRow> {
  const pointsPerDay = 86_400_000_000 / fill.stepUs;
  const row: NarrowRow = { seriesId: fill.seriesId, timeUs: 0, valueNum: 0, valueJson: null };
  for (let i = 0; i < fill.points; i++) {
    // One object reused: the encoder copies it into the buffer at once.
    row.timeUs = fill.fromUs + i * fill.stepUs;
    row.valueNum = valueAt(i, pointsPerDay);
    yield row;
  }
}

/** COPY of the points (binary); answers seconds, encoding included (it streams). */
export async function copyPoints(db: pg.Pool, fill: SeriesFill): Promise<number> {
  const client = await db.connect();
  try {
    const started = process.hrtime.bigint();
    await pipeline(
      Readable.from(encodeNarrowRows(rows(fill), 4 << 20)),
      client.query(copyFrom('COPY points (series_id, time, value_num, value_json) FROM STDIN (FORMAT binary)')),
    );
    return Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    client.release();
  }
}

/**
 * The series' 1-minute rollups, by INSERT … SELECT with the migration's own ROLLUP_SELECT, so the
 * rows are what the writer would have kept (points_1m is a table the writer keeps, a hypertable
 * on TimescaleDB). Answers seconds.
 */
export async function buildRollups(db: pg.Pool, seriesId: number): Promise<number> {
  const started = process.hrtime.bigint();
  await db.query(`INSERT INTO points_1m ${ROLLUP_SELECT} FROM points WHERE series_id = $1 GROUP BY 1, 2`, [seriesId]);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export type SqlAggregate = 'avg' | 'max';

/** v1's way ("before"): the hourly aggregate straight from raw points. */
export function rawBucketsSql(agg: SqlAggregate): string {
  return `SELECT extract(epoch FROM date_bin('1 hour', time, timestamptz 'epoch'))::float8 AS ts, ${agg}(value_num) AS v
            FROM points WHERE series_id = $1 AND time >= to_timestamp($2::float8 / 1e6) AND time < to_timestamp($3::float8 / 1e6)
           GROUP BY 1 ORDER BY 1`;
}

/** The same answer from the 1-minute rollups alone (what the API reads for whole minutes). */
export function rollupBucketsSql(agg: SqlAggregate): string {
  const value = agg === 'avg' ? 'sum(sum_num) / nullif(sum(n_num), 0)' : 'max(max_num)';
  return `SELECT extract(epoch FROM date_bin('1 hour', bucket, timestamptz 'epoch'))::float8 AS ts, ${value} AS v
            FROM points_1m WHERE series_id = $1 AND bucket >= to_timestamp($2::float8 / 1e6) AND bucket < to_timestamp($3::float8 / 1e6)
           GROUP BY 1 ORDER BY 1`;
}
