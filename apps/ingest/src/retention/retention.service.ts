import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { config } from '../config.js';

const BATCH = 5000;
const LOCK = 'plexus.retention';

/**
 * Keeps `points` within PLEXUS_RETENTION_DAYS. On TimescaleDB: a retention policy (whole chunks
 * dropped by TimescaleDB's scheduler) and a compression policy. On plain PostgreSQL: a
 * scheduled deletion in batches of 5,000 rows, each its own short transaction, so ingest never
 * waits on it; one ingest instance at a time (advisory lock).
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onApplicationBootstrap(): Promise<void> {
    const [{ timescale }] = await this.dataSource.query(`SELECT count(*)::int > 0 AS timescale FROM pg_extension WHERE extname = 'timescaledb'`);
    if (timescale) {
      await this.applyTimescalePolicies();
      return;
    }
    if (!config.retentionDays) return;
    this.timer = setInterval(() => void this.sweep(), config.retentionCheckSeconds * 1000);
    this.timer.unref();
    void this.sweep();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Deletes points older than the retention period; answers how many. */
  sweep(): Promise<number> {
    if (this.running) return this.running;
    this.running = this.deleteExpired().finally(() => (this.running = undefined));
    return this.running;
  }

  private async deleteExpired(): Promise<number> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    let deleted = 0;
    try {
      const [{ locked }] = await runner.query(`SELECT pg_try_advisory_lock(hashtext($1)) AS locked`, [LOCK]);
      if (!locked) return 0;
      try {
        for (;;) {
          const result = await runner.query(
            `DELETE FROM points WHERE ctid = ANY (ARRAY(SELECT ctid FROM points WHERE time < now() - make_interval(days => $1) LIMIT $2))`,
            [config.retentionDays, BATCH],
          );
          const count = Array.isArray(result) ? Number(result[1] ?? 0) : 0;
          deleted += count;
          if (count < BATCH) break;
        }
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(hashtext($1))`, [LOCK]);
      }
      if (deleted) this.logger.log(`retention: deleted ${deleted} points older than ${config.retentionDays} days`);
      return deleted;
    } catch (error) {
      this.logger.warn(`retention sweep failed: ${(error as Error).message}`);
      return deleted;
    } finally {
      await runner.release();
    }
  }

  private async applyTimescalePolicies(): Promise<void> {
    try {
      await this.dataSource.query(`SELECT remove_retention_policy('points', if_exists => true)`);
      if (config.retentionDays) {
        await this.dataSource.query(`SELECT add_retention_policy('points', make_interval(days => $1))`, [config.retentionDays]);
      }
      if (config.compressAfterDays) {
        await this.dataSource.query(
          `ALTER TABLE points SET (timescaledb.compress, timescaledb.compress_segmentby = 'org_id, source_id, metric', timescaledb.compress_orderby = 'time')`,
        );
        await this.dataSource.query(`SELECT add_compression_policy('points', make_interval(days => $1), if_not_exists => true)`, [config.compressAfterDays]);
      }
    } catch (error) {
      this.logger.warn(`could not apply TimescaleDB retention/compression policies: ${(error as Error).message}`);
    }
  }
}
