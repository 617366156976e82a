import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sources (devices and scripts that send telemetry), their device tokens and pairing codes.
 * Tokens and codes are stored as SHA-256 hashes only.
 */
export class SourcesAndPairing1732500000000 implements MigrationInterface {
  name = 'SourcesAndPairing1732500000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE sources (
        org_id       text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        id           text NOT NULL,
        name         text NOT NULL,
        platform     text,
        sensors      jsonb NOT NULL DEFAULT '[]',
        cameras      jsonb NOT NULL DEFAULT '[]',
        created_at   timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz,
        PRIMARY KEY (org_id, id)
      )`);
    await db.query(`
      CREATE TABLE device_tokens (
        id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id     text NOT NULL,
        source_id  text NOT NULL,
        token_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (org_id, source_id) REFERENCES sources(org_id, id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX device_tokens_source ON device_tokens (org_id, source_id)`);
    await db.query(`
      CREATE TABLE pairing_codes (
        id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id     text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        code_hash  text NOT NULL UNIQUE,
        name       text,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at    timestamptz,
        source_id  text
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE pairing_codes`);
    await db.query(`DROP TABLE device_tokens`);
    await db.query(`DROP TABLE sources`);
  }
}
