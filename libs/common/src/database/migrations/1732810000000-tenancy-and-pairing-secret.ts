import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Orgs can be disabled (their keys and device tokens are then refused); a pairing code can be
 * bound to the source it re-pairs; and `settings` keeps values every pairing instance must
 * share, such as the secret pairing codes are hashed with when PLEXUS_PAIRING_SECRET is unset.
 * Codes stored before this migration were plain SHA-256 and no longer match: they stop working
 * (they lived 10 minutes anyway), so unused ones are removed.
 */
export class TenancyAndPairingSecret1732810000000 implements MigrationInterface {
  name = 'TenancyAndPairingSecret1732810000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE orgs ADD COLUMN disabled_at timestamptz`);
    await db.query(`ALTER TABLE pairing_codes ADD COLUMN for_source_id text`);
    await db.query(`DELETE FROM pairing_codes WHERE used_at IS NULL`);
    await db.query(`
      CREATE TABLE settings (
        name       text PRIMARY KEY,
        value      text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE settings`);
    await db.query(`ALTER TABLE pairing_codes DROP COLUMN for_source_id`);
    await db.query(`ALTER TABLE orgs DROP COLUMN disabled_at`);
  }
}
