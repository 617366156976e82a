import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention deletes by time. On plain PostgreSQL a BRIN index makes "older than" cheap to find
 * while costing ingest next to nothing (a few pages for the whole table); TimescaleDB drops
 * whole chunks instead and needs no index for it.
 */
export class PointsTimeBrin1732700000000 implements MigrationInterface {
  name = 'PointsTimeBrin1732700000000';

  async up(db: QueryRunner): Promise<void> {
    const [{ timescale }] = await db.query(`SELECT count(*)::int > 0 AS timescale FROM pg_extension WHERE extname = 'timescaledb'`);
    if (!timescale) await db.query(`CREATE INDEX points_time_brin ON points USING brin (time)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX IF EXISTS points_time_brin`);
  }
}
