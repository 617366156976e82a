import pg from 'pg';
import { PG_ROOT } from './platform.js';

/** Whether the test server can install TimescaleDB (the compose image can; Debian's PostgreSQL here cannot). */
export async function timescaleAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: `${PG_ROOT}/postgres` });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT count(*)::int > 0 AS available FROM pg_available_extensions WHERE name = 'timescaledb'`);
    return rows[0].available as boolean;
  } finally {
    await client.end();
  }
}
