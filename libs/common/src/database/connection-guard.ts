import { Logger } from '@nestjs/common';
import pg from 'pg';

const logger = new Logger('Database');

/**
 * A pg client that always has an 'error' listener. pg emits 'error' on a client whose connection
 * drops (PostgreSQL restarted: "Connection terminated unexpectedly"); pg-pool listens only while
 * the client is idle, so a client checked out for a COPY or a cursor had none, and the unhandled
 * event ended the process. Here the event is logged; the query in flight rejects on its own, and
 * pg-pool discards the client when it comes back (it is no longer queryable).
 */
export class GuardedClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', (error: Error) => logger.warn(`database connection lost: ${error.message}`));
  }
}

/** A pool whose clients are GuardedClients, with its own error listener (idle clients cut off). */
export function guardedPool(options: pg.PoolConfig, name: string): pg.Pool {
  const pool = new pg.Pool({ ...options, Client: GuardedClient } as pg.PoolConfig);
  pool.on('error', (error) => logger.warn(`${name}: idle database connection lost: ${error.message}`));
  return pool;
}

/**
 * Whether an error means PostgreSQL is away or cannot take us yet (refused, reset, starting up,
 * shutting down, too many connections), rather than something wrong with what was asked.
 */
export function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string') return true; // "Connection terminated unexpectedly", timeouts
  if (/^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, ENOTFOUND…
  return code.startsWith('08') || code.startsWith('57P') || code === '53300';
}
