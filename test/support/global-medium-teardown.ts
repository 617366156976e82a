import pg from 'pg';

/** Drops the run's template database (a template must be unmarked before it can be dropped). */
export default async function globalMediumTeardown(): Promise<void> {
  const template = process.env.PLEXUS_TEST_TEMPLATE_DATABASE;
  if (!template || !/^plexus_template_[0-9a-f]{10}$/.test(template)) return;
  const root = process.env.PLEXUS_TEST_DATABASE_ROOT || 'postgres://postgres@127.0.0.1:5432';
  const admin = new pg.Client({ connectionString: `${root}/postgres` });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
    if (rowCount) {
      await admin.query(`ALTER DATABASE ${template} WITH IS_TEMPLATE false`);
      await admin.query(`DROP DATABASE ${template} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}
