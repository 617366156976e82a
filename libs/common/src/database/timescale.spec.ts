import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createDataSource, ensureDatabase } from './database.js';
import { enableTimescale, preloads, timescaleDecision, tryCreateExtension } from './timescale.js';

describe('timescaleDecision', () => {
  it('uses TimescaleDB only when it is installed and preloaded', () => {
    expect(timescaleDecision({ available: true, preloaded: true })).toEqual({ use: true });
    expect(timescaleDecision({ available: false, preloaded: false })).toEqual({ use: false });
    expect(timescaleDecision({ available: false, preloaded: true })).toEqual({ use: false });
  });

  it('falls back to plain PostgreSQL with a warning naming shared_preload_libraries when installed but not preloaded', () => {
    const decision = timescaleDecision({ available: true, preloaded: false });
    expect(decision.use).toBe(false);
    expect(decision.use === false && decision.warning).toMatch(/shared_preload_libraries/);
  });
});

describe('preloads', () => {
  it.each([
    ['timescaledb', true],
    ["'timescaledb'", true],
    ['pg_stat_statements, timescaledb', true],
    ['$libdir/timescaledb', true],
    ['"TimescaleDB",auto_explain', true],
    ['', false],
    ['pg_stat_statements', false],
    ['timescaledb_toolkit', false],
  ])('%j → %s', (setting, expected) => {
    expect(preloads(setting, 'timescaledb')).toBe(expected);
  });
});

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
      // The plain path of this server: not installed, so not tried.
      expect(await enableTimescale(runner)).toBe(false);
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
