import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { IngestConfig } from '../config.js';
import { PointsRepository } from '../points/points.repository.js';

const BATCH = 5000;
const LOCK = 'plexus.retention';

/**
 * Keeps points and their rollups within PLEXUS_RETENTION_DAYS. On TimescaleDB: retention
 * policies (whole chunks dropped by TimescaleDB's scheduler) and a compression policy. On plain
 * PostgreSQL: a scheduled deletion in batches of 5,000 rows, each its own short transaction, so
 * ingest never waits on it; one ingest instance at a time (advisory lock). Series stay: they are
 * a few rows per stream, and an ingest instance may still hold their ids.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly points: PointsRepository,
    private readonly config: IngestConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.points.timescale) {
      await this.applyTimescalePolicies();
      return;
    }
    if (!this.config.retentionDays) return;
    this.timer = setInterval(() => void this.sweep(), this.config.retentionCheckSeconds * 1000);
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
          const count = await this.points.deleteOlderThan(runner, this.config.retentionDays, BATCH);
          deleted += count;
          if (count < BATCH) break;
        }
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(hashtext($1))`, [LOCK]);
      }
      if (deleted) this.logger.log(`retention: deleted ${deleted} points older than ${this.config.retentionDays} days`);
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
      await this.points.applyTimescalePolicies(this.config.retentionDays, this.config.compressAfterDays);
    } catch (error) {
      this.logger.warn(`could not apply TimescaleDB retention/compression policies: ${(error as Error).message}`);
    }
  }
}
