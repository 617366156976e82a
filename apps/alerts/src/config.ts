import { ConfigError, type Env, readSharedConfig, readVariables, SharedConfig, variablesOf } from '#common';

/** The alerts app's validated config; provided by ConfigModule.forApp(AlertsConfig, readAlertsConfig). */
export abstract class AlertsConfig extends SharedConfig {
  abstract readonly httpPort: number;
  /** Webhook secrets are HMACs under this; unset: one generated once and kept in `settings`. */
  abstract readonly alertsSecret?: string;
  /** Orgs are split into this many partitions; one instance evaluates a partition at a time. */
  abstract readonly partitions: number;
  abstract readonly leaseMs: number;
  abstract readonly renewMs: number;
  /** How often no_data and offline timers are checked. */
  abstract readonly tickMs: number;
  abstract readonly webhookTimeoutMs: number;
  abstract readonly webhookRetryMaxMs: number;
  abstract readonly webhookGiveUpSeconds: number;
}

/** Reads and checks the alerts app's variables; throws a ConfigError naming each bad one. Also what main.ts uses before Nest. */
export function readAlertsConfig(env: Env = process.env): AlertsConfig {
  const variables = readVariables(variablesOf('alerts'), env);
  const leaseMs = variables.PLEXUS_ALERTS_LEASE_MS;
  const renewMs = variables.PLEXUS_ALERTS_RENEW_MS;
  if (renewMs * 2 > leaseMs) {
    throw new ConfigError(`PLEXUS_ALERTS_RENEW_MS must be at most half of PLEXUS_ALERTS_LEASE_MS (${leaseMs}), got "${renewMs}"`);
  }
  const partitions = variables.PLEXUS_ALERTS_PARTITIONS;
  // The feed's subjects carry 6 bits of the org's slot: a partition is a prefix of them.
  if (!Number.isInteger(Math.log2(partitions))) {
    throw new ConfigError(`PLEXUS_ALERTS_PARTITIONS must be 1, 2, 4, 8, 16, 32 or 64, got "${env.PLEXUS_ALERTS_PARTITIONS ?? partitions}"`);
  }
  return {
    ...readSharedConfig(env),
    httpPort: variables.ALERTS_HTTP_PORT,
    alertsSecret: variables.PLEXUS_ALERTS_SECRET,
    partitions,
    leaseMs,
    renewMs,
    tickMs: variables.PLEXUS_ALERTS_TICK_MS,
    webhookTimeoutMs: variables.PLEXUS_WEBHOOK_TIMEOUT_MS,
    webhookRetryMaxMs: variables.PLEXUS_WEBHOOK_RETRY_MAX_MS,
    webhookGiveUpSeconds: variables.PLEXUS_WEBHOOK_GIVE_UP_SECONDS,
  };
}
