import { API_KEY_PATTERN, ConfigError, readInt, readOptionalString, readSharedConfig, type SharedConfig } from '#common';

export interface PairingConfig extends SharedConfig {
  httpPort: number;
  bootstrapAdminKey?: string;
  /** Display name of the org created on an empty database (its id is always `default`). */
  bootstrapOrgName: string;
  /** How long a pairing code stays valid. */
  pairingCodeTtlSeconds: number;
  /**
   * The key pairing codes are hashed with (HMAC-SHA256). Unset: one is generated once and kept
   * in the database's `settings` table, so every pairing instance uses the same.
   */
  pairingSecret?: string;
}

function readConfig(env = process.env): PairingConfig {
  const bootstrapAdminKey = readOptionalString(env, 'PLEXUS_BOOTSTRAP_ADMIN_KEY');
  if (bootstrapAdminKey !== undefined && !API_KEY_PATTERN.test(bootstrapAdminKey)) {
    throw new ConfigError('PLEXUS_BOOTSTRAP_ADMIN_KEY must be "plx_" followed by 40 letters or digits');
  }
  return {
    ...readSharedConfig(env),
    httpPort: readInt(env, 'PAIRING_HTTP_PORT', 8083, 0, 65535),
    bootstrapAdminKey,
    bootstrapOrgName: readBootstrapOrgName(env),
    pairingCodeTtlSeconds: readInt(env, 'PLEXUS_PAIRING_CODE_TTL_SECONDS', 600, 1, 86_400),
    pairingSecret: readPairingSecret(env),
  };
}

function readPairingSecret(env: NodeJS.ProcessEnv): string | undefined {
  const secret = readOptionalString(env, 'PLEXUS_PAIRING_SECRET');
  // A short secret would let anyone holding a stolen table try every code and secret together.
  if (secret !== undefined && (secret.length < 32 || secret.length > 512)) {
    throw new ConfigError('PLEXUS_PAIRING_SECRET must be 32 to 512 characters (e.g. `openssl rand -hex 32`)');
  }
  return secret;
}

function readBootstrapOrgName(env: NodeJS.ProcessEnv): string {
  const name = readOptionalString(env, 'PLEXUS_BOOTSTRAP_ORG_NAME')?.trim() ?? 'default';
  if (!name || name.length > 128) throw new ConfigError('PLEXUS_BOOTSTRAP_ORG_NAME must be 1 to 128 characters');
  return name;
}

export const config: PairingConfig = readConfig();
