import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createDataSource, ensureDatabase } from './database.js';
import { enableTimescale, preloads, timescaleDecision, tryCreateExtension } from './timescale.js';

// Medium: the fallback path on the real PostgreSQL (in a database of its own, created empty: the
// migration transaction is what is under test, not a migrated schema).
const root = process.env.PLEXUS_TEST_DATABASE_ROOT || 'postgres://postgres@127.0.0.1:5432';
const name = `plexus_test_ext_${randomBytes(4).toString('hex')}`;

afterAll(async () => {
  const admin = new pg.Client({ connectionString: `${root}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  await admin.end();
});

describe('tryCreateExtension (real PostgreSQL)', () => {
  it('leaves the migration transaction usable when CREATE EXTENSION fails, as an unloadable TimescaleDB makes it', async () => {
    await ensureDatabase(`${root}/${name}`);
    const dataSource = await createDataSource(`${root}/${name}`, [], 1).initialize();
    const runner = dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      // No such extension is installed anywhere: CREATE EXTENSION fails inside the transaction.
      expect(await tryCreateExtension(runner, 'plexus_no_such_extension')).toBe(false);
      // This server's path: plain PostgreSQL unless TimescaleDB is both installed and preloaded
      // (the private cluster of docs/operations.md, "Running the TimescaleDB test").
      const [{ available, preload }] = await runner.query(
        `SELECT count(*)::int > 0 AS available, current_setting('shared_preload_libraries') AS preload
           FROM pg_available_extensions WHERE name = 'timescaledb'`,
      );
      const usable = timescaleDecision({ available, preloaded: preloads(String(preload), 'timescaledb') }).use;
      expect(await enableTimescale(runner)).toBe(usable);
      await runner.query('CREATE TABLE after_fallback (id int)');
      await runner.commitTransaction();
      const [{ exists }] = await runner.query(`SELECT to_regclass('after_fallback') IS NOT NULL AS exists`);
      expect(exists).toBe(true);
    } finally {
      await runner.release();
      await dataSource.destroy();
    }
  });
});
