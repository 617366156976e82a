import { Logger } from '@nestjs/common';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { GuardedClient, isConnectionFailure } from './connection-guard.js';
import { MIGRATIONS } from './migrations/index.js';

const logger = new Logger('Database');
const MIGRATION_LOCK = 'plexus.migrations';

/** Creates the database named in the URL when it does not exist yet. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres';
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new GuardedClient({ connectionString: admin.toString(), application_name: 'plexus' });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return;
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    logger.log(`created database ${name}`);
  } catch (error) {
    // Another app may have created it at the same moment.
    const code = (error as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A TypeORM entity class (a decorated constructor). */
export type EntityClass = abstract new (...args: never[]) => object;

export function createDataSource(databaseUrl: string, entities: EntityClass[], poolSize = 10): DataSource {
  return new DataSource({
    type: 'postgres',
    url: databaseUrl,
    entities,
    migrations: MIGRATIONS,
    migrationsTableName: 'plexus_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    poolSize,
    applicationName: 'plexus',
    // Every pooled client keeps an 'error' listener while it is checked out too (connection-guard.ts);
    // the pool's own (an idle client cut off) logs here rather than in TypeORM's silenced logger.
    extra: { Client: GuardedClient, keepAlive: true },
    poolErrorHandler: (error: Error) => logger.warn(`idle database connection lost: ${error.message}`),
  });
}

/** Runs pending migrations while holding a cluster-wide advisory lock, so apps starting together migrate once. */
export async function migrate(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [MIGRATION_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    for (const migration of applied) logger.log(`applied migration ${migration.name}`);
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}

/** Database created if missing, connected, migrated: what every app that owns tables does first. */
export async function openDatabase(databaseUrl: string, entities: EntityClass[], poolSize?: number): Promise<DataSource> {
  await ensureDatabase(databaseUrl);
  const dataSource = createDataSource(databaseUrl, entities, poolSize);
  try {
    await dataSource.initialize();
    await migrate(dataSource);
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    throw error;
  }
  return dataSource;
}

export interface WaitOptions {
  /** First pause between attempts; doubles up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Give up after this long (default: never — an app waits for its database as long as it takes). */
  deadlineMs?: number;
}

/**
 * openDatabase, waiting for PostgreSQL when it is not there yet (down, starting, refusing
 * connections): an app started before its database waits and says so, instead of exiting.
 * Anything else (bad credentials, a failing migration) still fails at once.
 */
export async function openDatabaseWhenReachable(
  databaseUrl: string,
  entities: EntityClass[],
  poolSize?: number,
  options: WaitOptions = {},
): Promise<DataSource> {
  const started = Date.now();
  let delay = options.initialDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      const dataSource = await openDatabase(databaseUrl, entities, poolSize);
      if (attempt > 1) logger.log(`PostgreSQL at ${where(databaseUrl)} reached after ${attempt} attempts`);
      return dataSource;
    } catch (error) {
      const waited = Date.now() - started;
      if (!isConnectionFailure(error) || (options.deadlineMs !== undefined && waited + delay > options.deadlineMs)) throw error;
      logger.warn(
        `waiting for PostgreSQL at ${where(databaseUrl)} (${(error as Error).message}); attempt ${attempt}, retrying in ${delay} ms`,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, options.maxDelayMs ?? 5000);
    }
  }
}

/** host:port/database of a URL, without credentials, for logs. */
function where(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${url.host}${url.pathname}`;
}

/** The pg pool under a DataSource, for COPY and other work TypeORM does not do. */
export function poolOf(dataSource: DataSource): pg.Pool {
  return (dataSource.driver as unknown as { master: pg.Pool }).master;
}
