import { API_KEY_PATTERN, ConfigError, readInt, readOptionalString, readSharedConfig, type SharedConfig } from '#common';

export interface PairingConfig extends SharedConfig {
  httpPort: number;
  bootstrapAdminKey?: string;
  /** Display name of the org created on an empty database (its id is always `default`). */
  bootstrapOrgName: string;
  /** How long a pairing code stays valid. */
  pairingCodeTtlSeconds: number;
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
  };
}

function readBootstrapOrgName(env: NodeJS.ProcessEnv): string {
  const name = readOptionalString(env, 'PLEXUS_BOOTSTRAP_ORG_NAME')?.trim() ?? 'default';
  if (!name || name.length > 128) throw new ConfigError('PLEXUS_BOOTSTRAP_ORG_NAME must be 1 to 128 characters');
  return name;
}

export const config: PairingConfig = readConfig();
