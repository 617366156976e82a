import { beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { openDatabase, type TelemetryBatch } from '#common';
import { isTransientFailure } from './failure.js';
import { PointsWriter } from './points-writer.service.js';
import { PointsRepository } from '../points/points.repository.js';
import { SeriesRepository } from '../points/series.repository.js';
import type { ReadPool } from '../query/read-pool.js';
import { mediumScope } from '../../../../test/support/medium.js';
import { telemetryBatch } from '../../../../test/support/telemetry.js';

// Medium test against the real PostgreSQL: the writer's connection is cut in the middle of its
// COPY (as a PostgreSQL restart cuts it). The batch must fail as a transient failure (the
// consumer naks it and retries), nothing of it may be half-stored, and no unhandled 'error'
// event may escape (that ended the ingest process before).
const scope = await mediumScope();
let dataSource: DataSource;
let admin: pg.Client;

beforeAll(async () => {
  dataSource = await openDatabase(scope.databaseUrl, [], 3);
  admin = new pg.Client({ connectionString: scope.databaseUrl });
  await admin.connect();
});

scope.onTeardown(async () => {
  await dataSource?.destroy();
  await admin?.end();
});

function messages(count: number, pointsEach: number): TelemetryBatch[] {
  return Array.from({ length: count }, (_, m) =>
    telemetryBatch(
      'org-1',
      1_700_000_000_000_000,
      Array.from({ length: pointsEach }, (_, p) => ({
        metric: 'm',
        value: m * pointsEach + p,
        source_id: 'rig-1',
        timestamp: 1_700_000_000 + m + p / 1000,
      })),
    ),
  );
}

async function copyBackend(): Promise<number | undefined> {
  // Inside a transaction pg_stat_activity is a snapshot taken once: take a fresh one each time.
  await admin.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY points %' AND pid <> pg_backend_pid()`,
  );
  return rows[0]?.pid;
}

describe('PointsWriter when its connection is cut mid-COPY', () => {
  it('fails the batch as transient, stores none of it, and writes it whole on the retry', async () => {
    // Writing never reads through the read pool.
    const points = new PointsRepository(dataSource, undefined as unknown as ReadPool);
    await points.onModuleInit();
    const writer = new PointsWriter(new SeriesRepository(dataSource), points);
    const batch = messages(10, 100);
    // Hold the COPY at its lock so the cut lands while it is in progress, not before or after.
    await admin.query('BEGIN');
    await admin.query('LOCK TABLE points IN SHARE MODE');
    const attempt = writer.write(batch).then(
      () => undefined,
      (error: unknown) => error,
    );
    let pid: number | undefined;
    for (const deadline = Date.now() + 20_000; pid === undefined && Date.now() < deadline;) {
      pid = await copyBackend();
      if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(pid).toBeDefined();
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await admin.query('COMMIT');

    const error = await attempt;
    expect(error).toBeInstanceOf(Error);
    expect(isTransientFailure(error)).toBe(true);
    expect(Number((await admin.query('SELECT count(*) FROM points')).rows[0].count)).toBe(0);

    expect(await writer.write(batch)).toBe(1000);
    const { rows } = await admin.query('SELECT count(*)::int AS stored, count(DISTINCT value_num)::int AS distinct_values FROM points');
    expect(rows[0]).toEqual({ stored: 1000, distinct_values: 1000 });
  });
});
