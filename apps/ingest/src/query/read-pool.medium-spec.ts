import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DomainError } from '#common';
import { readIngestConfig } from '../config.js';
import { ReadPool } from './read-pool.js';

// Medium test against the real PostgreSQL (read-only statements, in its `postgres` database),
// with its own bounds in the config the pool is given.
const root = process.env.PLEXUS_TEST_DATABASE_ROOT || 'postgres://postgres@127.0.0.1:5432';
let pool: ReadPool;

beforeAll(() => {
  pool = new ReadPool(
    readIngestConfig({
      DATABASE_URL: `${root}/postgres`,
      PLEXUS_INGEST_READ_POOL_SIZE: '1',
      PLEXUS_INGEST_READ_QUEUE_TIMEOUT_MS: '300',
      PLEXUS_QUERY_STATEMENT_TIMEOUT_MS: '300',
      PLEXUS_STREAM_ACK_TIMEOUT_MS: '5000',
    }),
  );
});

afterAll(async () => {
  await pool?.onApplicationShutdown();
});

describe('ReadPool', () => {
  it('sets the statement and idle-in-transaction timeouts on its connections', async () => {
    const [settings] = await pool.query<{ statement: string; idle: string; app: string }>(
      `SELECT current_setting('statement_timeout') AS statement, current_setting('idle_in_transaction_session_timeout') AS idle,
              current_setting('application_name') AS app`,
      [],
    );
    expect(settings).toEqual({ statement: '300ms', idle: '10s', app: 'plexus-ingest-read' });
  });

  it('answers a statement over the timeout with a 503 naming the bound', async () => {
    const failure = (await pool.query('SELECT pg_sleep(5)', []).catch((error: unknown) => error)) as DomainError;
    expect({ code: failure.code, status: failure.status }).toEqual({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    expect(failure.message).toMatch(/statement timeout \(300 ms\)/);
  });

  it('answers 503 "too many" when every read connection is taken and none comes free in time', async () => {
    const held = await pool.connect();
    try {
      const failure = (await pool.connect().catch((error: unknown) => error)) as DomainError;
      expect({ code: failure.code, retryAfter: failure.retryAfterSeconds }).toEqual({ code: 'SERVICE_UNAVAILABLE', retryAfter: 1 });
      expect(failure.message).toMatch(/too many queries and exports in progress \(1 at once/);
    } finally {
      held.release();
    }
  });

  it('turns a value PostgreSQL finds out of range into a 400', async () => {
    const failure = (await pool
      .query(`SELECT timestamptz 'epoch' + $1::bigint * interval '1 microsecond'`, ['99999999999999999999999'])
      .catch((error: unknown) => error)) as DomainError;
    expect(failure.code).toBe('BAD_REQUEST');
  });
});
