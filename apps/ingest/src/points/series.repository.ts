import { Inject, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import { DataSource } from 'typeorm';
import { canonicalTags, poolOf } from '#common';
import { type SeriesIdentity, seriesKey } from './series-key.js';

/**
 * Series ids held in memory per ingest instance; a miss costs one upsert of the batch's new
 * series. Bounded in count and in bytes: a key can be ~40 KB (32 tags of 1 KiB), so a count alone
 * would let a writer of many long-tagged series fill the heap.
 */
const CACHE_SERIES = 200_000;
const CACHE_BYTES = 64 * 1024 * 1024;
/** last_seen_at of a series and of its source is written at most this often (per instance). */
const SEEN_EVERY_MS = 5_000;

/**
 * New series in one statement, safe with several ingest instances: a series another instance
 * created meanwhile conflicts and is returned as it is. Sorted input keeps the row-lock order
 * the same for every writer (no deadlock).
 */
const UPSERT_SERIES = `
  INSERT INTO series (org_id, source_id, metric, session_id, tags)
  SELECT o, s, m, ses, t::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(o, s, m, ses, t)
  ON CONFLICT (org_id, source_id, metric, session_id, md5(tags::text)) DO UPDATE SET last_seen_at = now()
  RETURNING id, org_id, source_id, metric, session_id, tags`;

const TOUCH_SERIES = `UPDATE series SET last_seen_at = now() WHERE id = ANY($1::int[])`;

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

interface CachedSeries {
  id: number;
  orgId: string;
  sourceId: string;
  /** When last_seen_at was last written (by this instance). */
  seenAt: number;
}

/**
 * The `series` table and what the ingest app writes about sources: resolves a batch's series
 * identities to ids through a bounded in-memory cache, creates the new ones (opening their
 * sessions and adding their sources to the fleet) before the points that use them are written,
 * and keeps last_seen_at of series and sources current without a write per batch.
 */
@Injectable()
export class SeriesRepository {
  private readonly logger = new Logger(SeriesRepository.name);
  private readonly pool: pg.Pool;
  private readonly cache = new LRUCache<string, CachedSeries>({
    max: CACHE_SERIES,
    maxSize: CACHE_BYTES,
    // UTF-16 key, the entry and the cache's own bookkeeping, roughly.
    sizeCalculation: (entry, key) => key.length * 2 + entry.orgId.length * 2 + entry.sourceId.length * 2 + 96,
  });
  private unseen: CachedSeries[] = [];

  constructor(@Inject(DataSource) dataSource: DataSource) {
    this.pool = poolOf(dataSource);
  }

  /**
   * The id of each identity, in order; creates the series not stored yet. Series (and their
   * sources) not marked as seen for a while are remembered for markSeen.
   */
  async resolve(keys: string[], identity: (i: number) => SeriesIdentity): Promise<number[]> {
    const now = Date.now();
    const ids = new Array<number>(keys.length);
    const missing = new Map<string, SeriesIdentity>();
    const missingAt: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const cached = this.cache.get(keys[i]);
      if (!cached) {
        if (!missing.has(keys[i])) missing.set(keys[i], identity(i));
        missingAt.push(i);
        continue;
      }
      ids[i] = cached.id;
      if (now - cached.seenAt >= SEEN_EVERY_MS) {
        cached.seenAt = now;
        this.unseen.push(cached);
      }
    }
    if (!missing.size) return ids;
    // Read back from what create answers, not the cache: a batch may hold more new series than it keeps.
    const created = await this.create(
      [...missing.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, identity]) => identity),
    );
    for (const i of missingAt) {
      const id = created.get(keys[i]);
      if (id === undefined) throw new Error(`series of metric ${JSON.stringify(missing.get(keys[i])?.metric)} was not resolved`);
      ids[i] = id;
    }
    return ids;
  }

  /** After the points committed: last_seen_at of the series (and their sources) resolve found due. */
  async markSeen(): Promise<void> {
    if (!this.unseen.length) return;
    const due = this.unseen.splice(0);
    const sources = new Map<string, CachedSeries>();
    for (const s of due) sources.set(`${s.orgId}\u0000${s.sourceId}`, s);
    const ordered = [...sources.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, s]) => s);
    try {
      await this.pool.query(TOUCH_SERIES, [due.map((s) => s.id)]);
      await this.pool.query(SEE_SOURCES, [ordered.map((s) => s.orgId), ordered.map((s) => s.sourceId)]);
    } catch (error) {
      this.logger.warn(`could not record series and sources as seen: ${(error as Error).message}`);
    }
  }

  /** Creates (or finds) the series; answers their ids by cache key. */
  private async create(identities: SeriesIdentity[]): Promise<Map<string, number>> {
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<{
        id: number;
        org_id: string;
        source_id: string;
        metric: string;
        session_id: string;
        tags: Record<string, string | number | boolean>;
      }>(UPSERT_SERIES, [
        identities.map((s) => s.orgId),
        identities.map((s) => s.sourceId),
        identities.map((s) => s.metric),
        identities.map((s) => s.sessionId),
        identities.map((s) => s.tags || '{}'),
      ]);
      const now = Date.now();
      const ids = new Map<string, number>();
      for (const row of rows) {
        const key = seriesKey(row.org_id, row.source_id, row.metric, row.session_id, canonicalTags(row.tags));
        ids.set(key, row.id);
        this.cache.set(key, { id: row.id, orgId: row.org_id, sourceId: row.source_id, seenAt: now });
      }
      const sessions = new Map<string, SeriesIdentity>();
      const sources = new Map<string, SeriesIdentity>();
      for (const s of identities) {
        if (s.sessionId) sessions.set(`${s.orgId}\u0000${s.sessionId}`, s);
        sources.set(`${s.orgId}\u0000${s.sourceId}`, s);
      }
      if (sessions.size) {
        const open = [...sessions.values()];
        await client.query(OPEN_SESSIONS, [open.map((s) => s.orgId), open.map((s) => s.sessionId), open.map((s) => s.sourceId)]);
      }
      const seen = [...sources.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, s]) => s);
      // The points do not depend on it (an org removed meanwhile has no fleet to add to).
      await client
        .query(SEE_SOURCES, [seen.map((s) => s.orgId), seen.map((s) => s.sourceId)])
        .catch((error: Error) => this.logger.warn(`could not add sources to the fleet: ${error.message}`));
      client.release();
      return ids;
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
  }
}
