import { randomBytes } from 'node:crypto';

/** What loadSettingSecret needs of a database: a TypeORM DataSource or EntityManager has it. */
export interface SettingsQuery {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * A server secret every instance of an app must share: the configured value when there is one,
 * else one generated once and kept in `settings` under `name`. Several instances may start
 * together: the first INSERT wins (ON CONFLICT DO NOTHING) and every instance then reads the
 * stored one, so they all end up with the same secret.
 */
export async function loadSettingSecret(db: SettingsQuery, name: string, configured?: string): Promise<string> {
  if (configured) return configured;
  await db.query(`INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [
    name,
    randomBytes(32).toString('hex'),
  ]);
  const rows = (await db.query(`SELECT value FROM settings WHERE name = $1`, [name])) as { value: string }[];
  const value = rows[0]?.value;
  if (typeof value !== 'string' || value.length === 0) throw new Error(`the setting "${name}" could not be stored`);
  return value;
}
