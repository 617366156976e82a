import type pg from 'pg';

/** Rows of a query read through a server-side cursor, `batch` at a time, so memory stays flat. */
export async function* cursorRows<Row>(pool: pg.Pool, sql: string, params: unknown[], batch = 5000): AsyncGenerator<Row[]> {
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
    throw error;
  } finally {
    if (!failed) {
      // Also reached when the consumer stops early: end the transaction before reuse.
      await client.query('ROLLBACK').catch(() => undefined);
    }
    client.release(failed);
  }
}
