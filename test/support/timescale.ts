import { describe } from '@jest/globals';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { preloads } from '../../libs/common/src/database/timescale.js';
import { MIGRATIONS } from '../../libs/common/src/database/migrations/index.js';
import { PG_ROOT } from './platform.js';

export interface TimescaleStatus {
  /** The platform would run on TimescaleDB here: the extension is installed and preloaded. */
  usable: boolean;
  /** Why not, when not. */
  reason?: string;
}

/**
 * Whether the test server runs TimescaleDB as the platform needs it: installed
 * (`pg_available_extensions`) and in `shared_preload_libraries`. Installed without preloading,
 * the first migration falls back to plain PostgreSQL (libs/common/src/database/timescale.ts), so
 * such a server counts as plain PostgreSQL here too. Debian's PostgreSQL on the CI machine has no
 * TimescaleDB: not usable. A server that cannot be reached is an error, not a skip.
 */
export async function timescaleStatus(root = PG_ROOT): Promise<TimescaleStatus> {
  const client = new pg.Client({ connectionString: `${root}/postgres` });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT count(*)::int > 0 AS available, current_setting('shared_preload_libraries') AS preload
         FROM pg_available_extensions WHERE name = 'timescaledb'`,
    );
    const { available, preload } = rows[0] as { available: boolean; preload: string | null };
    if (!available) return { usable: false, reason: `no timescaledb extension on ${where(root)}` };
    if (!preloads(preload ?? '', 'timescaledb')) {
      return {
        usable: false,
        reason: `timescaledb is installed on ${where(root)} but not in shared_preload_libraries (the platform falls back to plain PostgreSQL)`,
      };
    }
    return { usable: true };
  } finally {
    await client.end();
  }
}

/** Whether the platform would use TimescaleDB on the test server (see timescaleStatus). */
export async function timescaleAvailable(): Promise<boolean> {
  return (await timescaleStatus()).usable;
}

/**
 * `describe` where TimescaleDB is usable, else `describe.skip` with one line saying why.
 * PLEXUS_TEST_REQUIRE_TIMESCALE=1 turns the skip into a failure, so a run meant for a
 * TimescaleDB server (docs/operations.md, "TimescaleDB") cannot pass by skipping everything.
 */
export async function describeOnTimescale(): Promise<(name: string, body: () => void) => void> {
  const status = await timescaleStatus();
  if (status.usable) return describe;
  if (process.env.PLEXUS_TEST_REQUIRE_TIMESCALE === '1') {
    throw new Error(`PLEXUS_TEST_REQUIRE_TIMESCALE=1 but TimescaleDB is not usable: ${status.reason}`);
  }
  process.stderr.write(`TimescaleDB tests skipped: ${status.reason}\n`);
  return describe.skip;
}

/** The migrations before storage v2: v1's schema, with `points` as one wide table. */
const STORAGE_V2 = MIGRATIONS.findIndex((migration) => migration.name.startsWith('StorageV2'));
export const V1_MIGRATIONS = STORAGE_V2 < 0 ? [] : MIGRATIONS.slice(0, STORAGE_V2);

/**
 * A database on `root` migrated to v1's schema only, as a v1 deployment left it (on TimescaleDB:
 * `points` a hypertable). Answers its URL; drop it with dropDatabase.
 */
export async function createV1Database(name: string, root = PG_ROOT): Promise<string> {
  if (V1_MIGRATIONS.length === 0) {
    throw new Error('no storage v2 migration among MIGRATIONS: cannot tell v1 from v2');
  }
  const admin = new pg.Client({ connectionString: `${root}/postgres` });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = `${root}/${name}`;
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    migrations: V1_MIGRATIONS,
    migrationsTableName: 'plexus_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
  });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
  return url;
}

export async function dropDatabase(name: string, root = PG_ROOT): Promise<void> {
  const admin = new pg.Client({ connectionString: `${root}/postgres` });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** The aggregates of `/api/query`, each compared with its value computed from raw points. */
export const AGGREGATES = ['count', 'sum', 'avg', 'min', 'max', 'first', 'last'] as const;
export type Agg = (typeof AGGREGATES)[number];

/** A point as a test sent it, to compute the answers expected of `/api/query`. */
export interface Sent {
  /** Milliseconds since the epoch. */
  ms: number;
  value: number | string;
  tags: Record<string, string>;
  session_id?: string;
}

export interface Bucket {
  timestamp: number;
  value: number | string | null;
}

/** What `/api/query` must answer (v1's aggregates over raw points), computed from the points sent: [from, to) in ms, buckets epoch-aligned. */
export function expectedBuckets(points: Sent[], fromMs: number, toMs: number, bucketSeconds: number, agg: Agg): Bucket[] {
  const groups = new Map<number, Sent[]>();
  for (const point of points) {
    if (point.ms < fromMs || point.ms >= toMs) continue;
    const start = Math.floor(point.ms / 1000 / bucketSeconds) * bucketSeconds;
    const group = groups.get(start);
    if (group) group.push(point);
    else groups.set(start, [point]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([timestamp, members]) => {
      const byTime = [...members].sort((a, b) => a.ms - b.ms);
      const nums = members.map((m) => m.value).filter((v): v is number => typeof v === 'number');
      const sum = nums.reduce((total, v) => total + v, 0);
      const value = {
        count: members.length,
        sum: nums.length ? sum : null,
        avg: nums.length ? sum / nums.length : null,
        min: nums.length ? Math.min(...nums) : null,
        max: nums.length ? Math.max(...nums) : null,
        first: byTime[0].value,
        last: byTime[byTime.length - 1].value,
      }[agg];
      return { timestamp, value };
    });
}

/** Sums and averages of floats differ in the last bits with the order of addition. */
export function rounded(buckets: Bucket[]): Bucket[] {
  return buckets.map(({ timestamp, value }) => ({ timestamp, value: typeof value === 'number' ? Math.round(value * 1e6) / 1e6 : value }));
}

/** host:port of a URL, without credentials. */
function where(root: string): string {
  return new URL(root).host;
}
