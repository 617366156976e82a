import { Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import type pg from 'pg';
import { type DomainError, guardedPool } from '#common';
import { IngestConfig } from '../config.js';
import { readFailure } from './read-failure.js';

/**
 * The connections queries, exports and session statistics read through, apart from the write
 * pool, so readers — however slow their HTTP clients — never take a connection the writers
 * need. Its size is the most cursors open at once on this instance; one more waits up to
 * PLEXUS_INGEST_READ_QUEUE_TIMEOUT_MS, then is answered 503. Every statement is bounded by
 * statement_timeout, and a transaction left idle (a cursor nobody fetches from) by
 * idle_in_transaction_session_timeout.
 */
@Injectable()
export class ReadPool implements OnApplicationShutdown {
  private readonly logger = new Logger(ReadPool.name);
  private readonly pool: pg.Pool;

  constructor(private readonly config: IngestConfig) {
    this.pool = guardedPool(
      {
        connectionString: this.config.databaseUrl,
        application_name: 'plexus-ingest-read',
        max: this.config.readPoolSize,
        connectionTimeoutMillis: this.config.readQueueTimeoutMs,
        idleTimeoutMillis: 30_000,
        statement_timeout: this.config.queryStatementTimeoutMs,
        idle_in_transaction_session_timeout: this.config.queryIdleTimeoutMs,
      },
      'read pool',
    );
  }

  /** A read connection, or a DomainError: 503 when every connection is busy or PostgreSQL is away. */
  async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw readFailure(error, this.logger, this.config, { poolFull: this.pool.totalCount >= this.config.readPoolSize });
    }
  }

  /** One statement on a read connection, its failure as a DomainError. */
  async query<Row extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<Row[]> {
    const client = await this.connect();
    try {
      const { rows } = await client.query<Row>(sql, params);
      client.release();
      return rows;
    } catch (error) {
      client.release(error as Error);
      throw this.failure(error, this.logger);
    }
  }

  /** A failed read as the DomainError its caller answers with, naming this pool's bounds. */
  failure(error: unknown, logger: Logger): DomainError {
    return readFailure(error, logger, this.config);
  }

  /** Connections open and in use, for tests and metrics. */
  get usage(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}

@Module({ providers: [ReadPool], exports: [ReadPool] })
export class ReadPoolModule {}
