import { Logger } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';

const logger = new Logger('Database');

export interface TimescaleState {
  /** `pg_available_extensions` lists it: the files are installed. */
  available: boolean;
  /** `shared_preload_libraries` names it: the server loaded it at start, as it must. */
  preloaded: boolean;
}

export type TimescaleDecision = { use: true } | { use: false; warning?: string };

/**
 * Installed is not usable: TimescaleDB that is not preloaded makes CREATE EXTENSION fail. Then
 * the platform runs on plain PostgreSQL and says so, rather than failing its first migration.
 */
export function timescaleDecision(state: TimescaleState): TimescaleDecision {
  if (!state.available) return { use: false };
  if (!state.preloaded) {
    return {
      use: false,
      warning:
        'TimescaleDB is installed but not in shared_preload_libraries; using plain PostgreSQL. ' +
        "To use it, set shared_preload_libraries = 'timescaledb' and restart PostgreSQL before the first start.",
    };
  }
  return { use: true };
}

/** Whether `shared_preload_libraries` (e.g. `'pg_stat_statements, $libdir/timescaledb'`) names the library. */
export function preloads(sharedPreloadLibraries: string, library: string): boolean {
  return sharedPreloadLibraries
    .split(',')
    .map((entry) =>
      entry
        .trim()
        .replace(/^['"]|['"]$/g, '')
        .split('/')
        .pop()
        ?.toLowerCase(),
    )
    .includes(library.toLowerCase());
}

/**
 * CREATE EXTENSION inside a savepoint, so a failure leaves the migration's transaction usable:
 * true when the extension exists afterwards, false (with a warning) when PostgreSQL refused it.
 */
export async function tryCreateExtension(db: QueryRunner, extension: string): Promise<boolean> {
  const savepoint = db.isTransactionActive;
  if (savepoint) await db.query('SAVEPOINT plexus_extension');
  try {
    await db.query(`CREATE EXTENSION IF NOT EXISTS "${extension.replace(/"/g, '""')}"`);
    if (savepoint) await db.query('RELEASE SAVEPOINT plexus_extension');
    return true;
  } catch (error) {
    if (savepoint) await db.query('ROLLBACK TO SAVEPOINT plexus_extension');
    logger.warn(`could not create extension ${extension} (${(error as Error).message}); using plain PostgreSQL`);
    return false;
  }
}

/** The first migration's question: make `points` a hypertable? Decides, warns, and creates the extension. */
export async function enableTimescale(db: QueryRunner): Promise<boolean> {
  const [{ available, preload }] = await db.query(
    `SELECT count(*)::int > 0 AS available, current_setting('shared_preload_libraries') AS preload
       FROM pg_available_extensions WHERE name = 'timescaledb'`,
  );
  const decision = timescaleDecision({ available, preloaded: preloads(String(preload ?? ''), 'timescaledb') });
  if (!decision.use) {
    if (decision.warning) logger.warn(decision.warning);
    return false;
  }
  return tryCreateExtension(db, 'timescaledb');
}

/** Whether the database has the timescaledb extension (created by the first migration when usable). */
export async function hasTimescale(db: { query(sql: string): Promise<Array<{ timescale: boolean }>> }): Promise<boolean> {
  const [{ timescale }] = await db.query(`SELECT count(*)::int > 0 AS timescale FROM pg_extension WHERE extname = 'timescaledb'`);
  return timescale;
}
