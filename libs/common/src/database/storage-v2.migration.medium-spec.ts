import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { ensureDatabase, migrate, openDatabase } from './database.js';
import { MIGRATIONS } from './migrations/index.js';
import { ROLLUP_SELECT } from './rollup-sql.js';

// The storage v2 migration on a database filled through v1's schema (real PostgreSQL): every
// point moves into series and points unchanged, the rollups match, and the telemetry view shows
// the rows v1's table held.
const root = process.env.PLEXUS_TEST_DATABASE_ROOT || 'postgres://postgres@127.0.0.1:5432';
const name = `plexus_test_v2_${randomBytes(4).toString('hex')}`;

afterAll(async () => {
  const admin = new pg.Client({ connectionString: `${root}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  await admin.end();
});

const V1_ROWS = `
  SELECT time, org_id, source_id, metric, value_num, value_json::text AS value_json, tags::text AS tags, session_id
    FROM %s ORDER BY time, org_id, source_id, metric, session_id, tags::text`;

describe('storage v2 migration (real PostgreSQL)', () => {
  it('moves v1 rows into series and points, rolls them up, and shows them as before', async () => {
    await ensureDatabase(`${root}/${name}`);
    const v1 = new DataSource({
      type: 'postgres',
      url: `${root}/${name}`,
      migrations: MIGRATIONS.slice(
        0,
        MIGRATIONS.findIndex((m) => m.name.startsWith('StorageV2')),
      ),
      migrationsTableName: 'plexus_migrations',
      migrationsTransactionMode: 'each',
    });
    await v1.initialize();
    await migrate(v1);
    // 10 minutes of two sources, tag sets written in different key orders, a session, values of every type.
    await v1.query(`
      INSERT INTO points (time, org_id, source_id, metric, value_num, value_json, tags, session_id)
      SELECT timestamptz '2024-03-01 12:00:07+00' + n * interval '1.5 second',
             CASE WHEN n % 11 = 0 THEN 'org-2' ELSE 'org-1' END,
             'rig-' || (n % 2),
             CASE WHEN n % 5 = 0 THEN 'state' ELSE 'temp' END,
             CASE WHEN n % 5 = 0 THEN NULL ELSE n * 0.25 END,
             CASE WHEN n % 5 = 0 THEN (CASE WHEN n % 2 = 0 THEN '"open"' ELSE '{"a": [1, 2]}' END)::jsonb END,
             CASE n % 3 WHEN 0 THEN '{}' WHEN 1 THEN '{"room": "a", "probe": "x"}' ELSE '{"probe": "x", "room": "a"}' END::jsonb,
             CASE WHEN n % 7 = 0 THEN 'run-1' ELSE '' END
        FROM generate_series(1, 400) AS n`);
    const before = (await v1.query(V1_ROWS.replace('%s', 'points'))) as unknown[];
    await v1.destroy();

    const v2 = await openDatabase(`${root}/${name}`, [], 2);
    try {
      expect(await v2.query(V1_ROWS.replace('%s', 'telemetry'))).toEqual(before);
      expect(before).toHaveLength(400);
      // The two key orders of one tag set are one series.
      const [{ series }] = await v2.query(`SELECT count(*)::int AS series FROM series`);
      const [{ distinct }] = await v2.query(
        `SELECT count(*)::int AS distinct FROM (SELECT DISTINCT org_id, source_id, metric, session_id, tags FROM telemetry) d`,
      );
      expect(series).toBe(distinct);
      const cols =
        'series_id, bucket, n, n_num, sum_num, min_num, max_num, first_time, first_num, first_json::text, last_time, last_num, last_json::text';
      const rollups = await v2.query(`SELECT ${cols} FROM points_1m ORDER BY 1, 2`);
      expect(rollups.length).toBeGreaterThan(10);
      expect(rollups).toEqual(await v2.query(`SELECT ${cols} FROM (${ROLLUP_SELECT} FROM points GROUP BY 1, 2) r ORDER BY 1, 2`));
      const [{ tables }] = await v2.query(`SELECT count(*)::int AS tables FROM pg_tables WHERE tablename = 'points_v1'`);
      expect(tables).toBe(0);
    } finally {
      await v2.destroy();
    }
  });
});
