import { type Env, readSharedConfig, readVariables, SharedConfig, variablesOf } from '#common';

/** The pairing app's validated config; provided by ConfigModule.forApp(PairingConfig, readPairingConfig). */
export abstract class PairingConfig extends SharedConfig {
  abstract readonly httpPort: number;
  abstract readonly bootstrapAdminKey?: string;
  /** Display name of the org created on an empty database (its id is always `default`). */
  abstract readonly bootstrapOrgName: string;
  /** How long a pairing code stays valid. */
  abstract readonly pairingCodeTtlSeconds: number;
  /**
   * The key pairing codes are hashed with (HMAC-SHA256). Unset: one is generated once and kept
   * in the database's `settings` table, so every pairing instance uses the same.
   */
  abstract readonly pairingSecret?: string;
}

/** Reads and checks the pairing app's variables; throws a ConfigError naming each bad one. Also what main.ts uses before Nest. */
export function readPairingConfig(env: Env = process.env): PairingConfig {
  const variables = readVariables(variablesOf('pairing'), env);
  return {
    ...readSharedConfig(env),
    httpPort: variables.PAIRING_HTTP_PORT,
    bootstrapAdminKey: variables.PLEXUS_BOOTSTRAP_ADMIN_KEY,
    bootstrapOrgName: variables.PLEXUS_BOOTSTRAP_ORG_NAME,
    pairingCodeTtlSeconds: variables.PLEXUS_PAIRING_CODE_TTL_SECONDS,
    pairingSecret: variables.PLEXUS_PAIRING_SECRET,
  };
}
