import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { openDatabase } from './database.js';
import { MIGRATIONS } from './migrations/index.js';
import { hasTimescale } from './timescale.js';

const root = process.env.PLEXUS_TEST_DATABASE_ROOT || 'postgres://postgres@127.0.0.1:5432';
const name = `plexus_test_migrate_${randomBytes(4).toString('hex')}`;

afterAll(async () => {
  const admin = new pg.Client({ connectionString: `${root}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  await admin.end();
});

describe('openDatabase (real PostgreSQL)', () => {
  it('creates a missing database and migrates it once when several apps start at the same moment', async () => {
    const sources = await Promise.all([1, 2, 3].map(() => openDatabase(`${root}/${name}`, [], 2)));
    try {
      const [{ applied }] = await sources[0].query('SELECT count(*)::int AS applied FROM plexus_migrations');
      expect(applied).toBe(MIGRATIONS.length);
      const tables = await sources[1].query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`);
      expect(tables.map((t: { table_name: string }) => t.table_name)).toEqual(
        expect.arrayContaining([
          'api_keys',
          'orgs',
          'plexus_migrations',
          'points',
          'points_1m',
          'series',
          'sessions',
          'sources',
          'device_tokens',
          'pairing_codes',
          'telemetry',
        ]),
      );
      const indexes = await sources[2].query(`SELECT indexname FROM pg_indexes WHERE tablename = 'points' ORDER BY 1`);
      // Plain PostgreSQL: BRIN on time. TimescaleDB: the hypertable's own index on time instead.
      const timescale = await hasTimescale(sources[2]);
      expect(indexes.map((i: { indexname: string }) => i.indexname)).toEqual(
        timescale ? ['points_pkey', expect.stringMatching(/^points_time_idx/)] : ['points_pkey', 'points_time_brin'],
      );
    } finally {
      await Promise.all(sources.map((source) => source.destroy()));
    }
  });
});
