import { Logger } from '@nestjs/common';
import type { ReadPool } from './read-pool.js';

const logger = new Logger('RowCursor');

/**
 * Rows of a query read through a server-side cursor, `batch` at a time, so memory stays flat
 * (1,000 rows: even of the largest values ingest accepts, a fetch stays within tens of MiB).
 * The connection comes from the read pool and goes back however the reading ends: done, an
 * error (as a DomainError), or the consumer stopping early (the caller went away or was too
 * slow to take a chunk).
 */
export async function* cursorRows<Row>(pool: ReadPool, sql: string, params: unknown[], batch = 1000): AsyncGenerator<Row[]> {
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(`DECLARE rows_cursor NO SCROLL CURSOR FOR ${sql}`, params);
    for (;;) {
      const { rows } = await client.query(`FETCH ${batch} FROM rows_cursor`);
      if (rows.length) yield rows as Row[];
      if (rows.length < batch) break;
    }
    await client.query('COMMIT');
  } catch (error) {
    failed = error as Error;
    throw pool.failure(error, logger);
  } finally {
    if (!failed) {
      // Also reached when the consumer stops early: end the transaction before reuse.
      await client.query('ROLLBACK').catch(() => undefined);
    }
    client.release(failed);
  }
}
