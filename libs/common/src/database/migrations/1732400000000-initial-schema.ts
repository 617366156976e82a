import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTimescale } from '../timescale.js';

/**
 * Orgs, API keys, sessions and the points table.
 * A point's identity is (org, source, metric, time, session, tags): the unique index makes
 * a redelivered or re-sent point land once. Tags are hashed in the index because a tag
 * set can be longer than a btree entry may be.
 */
export class InitialSchema1732400000000 implements MigrationInterface {
  name = 'InitialSchema1732400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE orgs (
        id         text PRIMARY KEY,
        name       text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE TABLE api_keys (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id       text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        name         text NOT NULL,
        key_hash     text NOT NULL UNIQUE,
        prefix       text NOT NULL,
        scopes       text[] NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at   timestamptz
      )`);
    await db.query(`CREATE INDEX api_keys_org ON api_keys (org_id, created_at)`);
    await db.query(`
      CREATE TABLE sessions (
        org_id     text NOT NULL,
        id         text NOT NULL,
        source_id  text NOT NULL,
        name       text NOT NULL,
        status     text NOT NULL CHECK (status IN ('active', 'completed', 'failed', 'aborted')),
        tags       jsonb NOT NULL DEFAULT '{}',
        metadata   jsonb NOT NULL DEFAULT '{}',
        started_at timestamptz NOT NULL DEFAULT now(),
        ended_at   timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, id)
      )`);
    await db.query(`CREATE INDEX sessions_by_created ON sessions (org_id, created_at DESC, id DESC)`);
    await db.query(`
      CREATE TABLE points (
        time       timestamptz NOT NULL,
        org_id     text NOT NULL,
        source_id  text NOT NULL,
        metric     text NOT NULL,
        value_num  double precision,
        value_json jsonb,
        tags       jsonb NOT NULL DEFAULT '{}',
        session_id text NOT NULL DEFAULT ''
      )`);
    if (await enableTimescale(db)) {
      await db.query(`SELECT create_hypertable('points', 'time', chunk_time_interval => interval '1 day')`);
    }
    await db.query(`CREATE UNIQUE INDEX points_identity ON points (org_id, source_id, metric, time, session_id, md5(tags::text))`);
    await db.query(`CREATE INDEX points_by_session ON points (org_id, session_id, time) WHERE session_id <> ''`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE points`);
    await db.query(`DROP TABLE sessions`);
    await db.query(`DROP TABLE api_keys`);
    await db.query(`DROP TABLE orgs`);
  }
}
