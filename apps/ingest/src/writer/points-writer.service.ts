import { Inject, Injectable, Logger } from '@nestjs/common';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { poolOf } from '#common';
import { messageToCopyLines, type SessionSeen, type SourceSeen } from './point-rows.js';

const COLUMNS = '(time, org_id, source_id, metric, value_num, value_json, tags, session_id)';

const STAGING = `
  CREATE TEMP TABLE IF NOT EXISTS points_staging (
    time timestamptz, org_id text, source_id text, metric text,
    value_num double precision, value_json jsonb, tags jsonb, session_id text
  ) ON COMMIT DELETE ROWS`;

const MOVE_STAGED = `INSERT INTO points ${COLUMNS} SELECT * FROM points_staging ON CONFLICT DO NOTHING`;

const UNIQUE_VIOLATION = '23505';

async function copyInto(client: pg.PoolClient, table: string, text: string): Promise<void> {
  await pipeline(Readable.from([text]), client.query(copyFrom(`COPY ${table} ${COLUMNS} FROM STDIN`)));
}

/** Points that carry a session id make the session known (active) if nobody created it first. */
const OPEN_SESSIONS = `
  INSERT INTO sessions (org_id, id, source_id, name, status)
  SELECT o, s, src, s, 'active' FROM unnest($1::text[], $2::text[], $3::text[]) AS t(o, s, src)
  ON CONFLICT DO NOTHING`;

/**
 * Sources that send telemetry exist in the fleet: created on first telemetry, last seen kept.
 * Sorted input keeps the row-lock order the same for parallel writers (no deadlock).
 */
const SEE_SOURCES = `
  INSERT INTO sources (org_id, id, name, last_seen_at)
  SELECT o, s, s, now() FROM unnest($1::text[], $2::text[]) AS t(o, s) ORDER BY o, s
  ON CONFLICT (org_id, id) DO UPDATE SET last_seen_at = now()`;

/**
 * Writes telemetry messages in one transaction. Fast path: COPY straight into points.
 * If that meets a point already stored (a redelivered message, a re-sent point), it rolls
 * back to a savepoint and takes the careful path: COPY into a session-local staging table,
 * then INSERT … ON CONFLICT DO NOTHING, so every point is stored once.
 */
@Injectable()
export class PointsWriter {
  private readonly logger = new Logger(PointsWriter.name);
  private readonly pool: pg.Pool;
  private readonly prepared = new WeakSet<pg.PoolClient>();

  constructor(@Inject(DataSource) dataSource: DataSource) {
    this.pool = poolOf(dataSource);
  }

  /** Parses every message first (a bad one throws before anything is written), then writes them all. */
  async write(messages: string[]): Promise<number> {
    const sessions = new Map<string, SessionSeen>();
    const sources = new Map<string, SourceSeen>();
    let copy = '';
    let count = 0;
    for (const data of messages) {
      const rows = messageToCopyLines(data, sessions, sources);
      copy += rows.lines;
      count += rows.count;
    }
    const client = await this.pool.connect();
    try {
      if (!this.prepared.has(client)) {
        await client.query(STAGING);
        this.prepared.add(client);
      }
      await client.query('BEGIN');
      await client.query('SAVEPOINT direct');
      try {
        await copyInto(client, 'points', copy);
      } catch (error) {
        if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
        await client.query('ROLLBACK TO SAVEPOINT direct');
        await copyInto(client, 'points_staging', copy);
        await client.query(MOVE_STAGED);
      }
      if (sessions.size) {
        const seen = [...sessions.values()];
        await client.query(OPEN_SESSIONS, [seen.map((s) => s.orgId), seen.map((s) => s.sessionId), seen.map((s) => s.sourceId)]);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(error as Error);
      throw error;
    }
    try {
      // After the commit and outside it: the points are safe; this only keeps the fleet current.
      const seen = [...sources.values()];
      await client.query(SEE_SOURCES, [seen.map((s) => s.orgId), seen.map((s) => s.sourceId)]);
      client.release();
    } catch (error) {
      client.release(error as Error);
      this.logger.warn(`could not record sources as seen: ${(error as Error).message}`);
    }
    return count;
  }
}
