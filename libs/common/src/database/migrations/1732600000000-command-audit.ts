import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Every remote command run on a device: who (API key), where, what, when, and how it ended. */
export class CommandAudit1732600000000 implements MigrationInterface {
  name = 'CommandAudit1732600000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE command_audit (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id      text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        key_id      uuid NOT NULL,
        source_id   text NOT NULL,
        command_id  text NOT NULL,
        command     text NOT NULL,
        started_at  timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        exit_code   integer
      )`);
    await db.query(`CREATE INDEX command_audit_by_org ON command_audit (org_id, started_at DESC)`);
    await db.query(`CREATE INDEX command_audit_by_command ON command_audit (org_id, source_id, command_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE command_audit`);
  }
}
