import { type NatsSettings, readNatsSettings } from './nats-config.js';
import { type Env, readVariables } from './read-variables.js';

/** The shared variables other than NATS's (nats-config.ts reads those). */
export const SHARED_VARIABLES = [
  'DATABASE_URL',
  'PLEXUS_NATS_PREFIX',
  'PLEXUS_IDEMPOTENCY_WINDOW_SECONDS',
  'PLEXUS_PUBLISH_TIMEOUT_MS',
  'PLEXUS_STREAM_REPLICAS',
  'NODE_ENV',
  'PLEXUS_LOG_FORMAT',
  'PLEXUS_LOG_LEVEL',
] as const;

export const LOG_LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/**
 * Settings every app shares: where NATS and PostgreSQL are, and the NATS namespace. A class so it
 * is also the injection token the shared modules (database, broker, RPC client) ask for; each
 * app's ConfigModule provides it as an alias of the app's own config.
 */
export abstract class SharedConfig {
  /** NATS_URL without credentials (safe to print); `nats` has everything needed to connect. */
  abstract readonly natsUrl: string;
  /** Server, credentials (NATS_USER/PASSWORD, TOKEN, CREDS, NKEY_SEED) and TLS files of every NATS connection. */
  abstract readonly nats: NatsSettings;
  /** Prefix of every NATS subject and JetStream stream; lets several platforms share one NATS. */
  abstract readonly natsPrefix: string;
  abstract readonly databaseUrl: string;
  /** How long the broker remembers an Idempotency-Key (JetStream duplicate window). */
  abstract readonly idempotencyWindowSeconds: number;
  /** How long to wait for JetStream to store telemetry before answering "unavailable". */
  abstract readonly publishTimeoutMs: number;
  /** Copies JetStream keeps of each stream: 1 on one server, 3 on a 3-node NATS cluster. */
  abstract readonly streamReplicas: number;
  /** `json`: one JSON object a line (production, log shippers); `text`: coloured lines for people. */
  abstract readonly logFormat: 'json' | 'text';
  /** The least severe level written: error, warn, log, debug or verbose. */
  abstract readonly logLevel: LogLevelName;
}

/** Reads and checks the shared settings; throws a ConfigError naming each bad variable. */
export function readSharedConfig(env: Env = process.env): SharedConfig {
  const variables = readVariables(SHARED_VARIABLES, env);
  const nats = readNatsSettings(env);
  return {
    natsUrl: nats.servers,
    nats,
    natsPrefix: variables.PLEXUS_NATS_PREFIX,
    databaseUrl: variables.DATABASE_URL,
    idempotencyWindowSeconds: variables.PLEXUS_IDEMPOTENCY_WINDOW_SECONDS,
    publishTimeoutMs: variables.PLEXUS_PUBLISH_TIMEOUT_MS,
    streamReplicas: variables.PLEXUS_STREAM_REPLICAS,
    logFormat: variables.PLEXUS_LOG_FORMAT ?? (variables.NODE_ENV === 'production' ? 'json' : 'text'),
    logLevel: variables.PLEXUS_LOG_LEVEL,
  };
}

/** PLEXUS_NATS_PREFIX alone, checked: what subjects.ts needs when it loads. */
export function readNatsPrefix(env: Env = process.env): string {
  return readVariables(['PLEXUS_NATS_PREFIX'], env).PLEXUS_NATS_PREFIX;
}
