import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Aggregate, QueryPointsRequest } from '#common';
import { type PointRow, queryPointJson } from './point-format.js';
import { ReadPool } from './read-pool.js';
import { cursorRows } from './row-cursor.js';

const TIME_US = (param: string) => `timestamptz 'epoch' + ${param}::bigint * interval '1 microsecond'`;

const AGGREGATE_SQL: Record<Aggregate, string> = {
  avg: 'avg(value_num)',
  min: 'min(value_num)',
  max: 'max(value_num)',
  sum: 'sum(value_num)',
  count: 'count(*)',
  first: `((array_agg(coalesce(to_jsonb(value_num), value_json) ORDER BY time ASC))[1])::text`,
  last: `((array_agg(coalesce(to_jsonb(value_num), value_json) ORDER BY time DESC))[1])::text`,
};

/**
 * `/api/query`: raw points or time buckets, oldest first. Buckets use TimescaleDB's
 * `time_bucket` where the extension is installed, `date_bin` on plain PostgreSQL.
 */
@Injectable()
export class QueryService implements OnModuleInit {
  private bucketFn: 'time_bucket' | 'date_bin' = 'date_bin';

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly pool: ReadPool,
  ) {}

  async onModuleInit(): Promise<void> {
    const [{ timescale }] = await this.dataSource.query(
      `SELECT count(*)::int > 0 AS timescale FROM pg_extension WHERE extname = 'timescaledb'`,
    );
    this.bucketFn = timescale ? 'time_bucket' : 'date_bin';
  }

  get bucketFunction(): string {
    return this.bucketFn;
  }

  /** The `points` array's content: comma-separated point objects. */
  async *points(request: QueryPointsRequest): AsyncGenerator<string> {
    const params: unknown[] = [request.org_id, request.source_id, request.metric];
    let where = 'org_id = $1 AND source_id = $2 AND metric = $3';
    if (request.from_us !== undefined) {
      params.push(request.from_us);
      where += ` AND time >= ${TIME_US(`$${params.length}`)}`;
    }
    if (request.to_us !== undefined) {
      params.push(request.to_us);
      where += ` AND time < ${TIME_US(`$${params.length}`)}`;
    }
    params.push(request.limit);
    const limit = `$${params.length}`;
    let first = true;
    if (request.bucket_us === undefined) {
      const sql = `SELECT extract(epoch FROM time)::float8 AS ts, source_id, metric, value_num, value_json::text AS value_json,
                          tags::text AS tags, session_id
                     FROM points WHERE ${where} ORDER BY time LIMIT ${limit}`;
      for await (const rows of cursorRows<PointRow>(this.pool, sql, params)) {
        let chunk = '';
        for (const row of rows) {
          chunk += (first ? '' : ',') + queryPointJson(row);
          first = false;
        }
        yield chunk;
      }
      return;
    }
    params.push(request.bucket_us);
    const width = `$${params.length}::bigint * interval '1 microsecond'`;
    const bucket =
      // Both aligned to the Unix epoch (time_bucket's own default origin is 2000-01-03, which
      // shifts buckets that do not divide a day, such as weeks).
      this.bucketFn === 'time_bucket' ? `time_bucket(${width}, time, origin => timestamptz 'epoch')` : `date_bin(${width}, time, timestamptz 'epoch')`;
    const sql = `SELECT extract(epoch FROM b)::float8 AS ts, v FROM (
                   SELECT ${bucket} AS b, ${AGGREGATE_SQL[request.agg]} AS v FROM points WHERE ${where} GROUP BY 1
                 ) buckets ORDER BY b LIMIT ${limit}`;
    for await (const rows of cursorRows<{ ts: number; v: number | string | null }>(this.pool, sql, params)) {
      let chunk = '';
      for (const row of rows) {
        // count arrives as a bigint string, first/last as JSON text: both are already JSON.
        chunk += `${first ? '' : ','}{"timestamp":${row.ts},"value":${row.v === null ? 'null' : String(row.v)}}`;
        first = false;
      }
      yield chunk;
    }
  }
}
