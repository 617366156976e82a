import { readInt, readPattern, readUrl } from './env.js';
import { type NatsSettings, readNatsSettings } from './nats-config.js';

/** Settings every app shares: where NATS and PostgreSQL are, and the NATS namespace. */
export interface SharedConfig {
  /** NATS_URL without credentials (safe to print); `nats` has everything needed to connect. */
  natsUrl: string;
  /** Server, credentials (NATS_USER/PASSWORD, TOKEN, CREDS, NKEY_SEED) and TLS files of every NATS connection. */
  nats: NatsSettings;
  /** Prefix of every NATS subject and JetStream stream; lets several platforms share one NATS. */
  natsPrefix: string;
  databaseUrl: string;
  /** How long the broker remembers an Idempotency-Key (JetStream duplicate window). */
  idempotencyWindowSeconds: number;
  /** How long to wait for JetStream to store telemetry before answering "unavailable". */
  publishTimeoutMs: number;
  /** Copies JetStream keeps of each stream: 1 on one server, 3 on a 3-node NATS cluster. */
  streamReplicas: number;
  /** `json`: one JSON object a line (production, log shippers); `text`: coloured lines for people. */
  logFormat: 'json' | 'text';
  /** The least severe level written: error, warn, log, debug or verbose. */
  logLevel: LogLevelName;
}

export const LOG_LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export function readSharedConfig(env: Record<string, string | undefined> = process.env): SharedConfig {
  const nats = readNatsSettings(env);
  return {
    natsUrl: nats.servers,
    nats,
    natsPrefix: readPattern(
      env,
      'PLEXUS_NATS_PREFIX',
      'plexus',
      /^[A-Za-z][A-Za-z0-9_-]{0,31}$/,
      'a letter followed by up to 31 letters, digits, _ or -',
    ),
    databaseUrl: readUrl(env, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/plexus', ['postgres:', 'postgresql:']),
    idempotencyWindowSeconds: readInt(env, 'PLEXUS_IDEMPOTENCY_WINDOW_SECONDS', 600, 1, 7 * 24 * 3600),
    publishTimeoutMs: readInt(env, 'PLEXUS_PUBLISH_TIMEOUT_MS', 5_000, 100, 60_000),
    streamReplicas: readInt(env, 'PLEXUS_STREAM_REPLICAS', 1, 1, 5),
    logFormat: readPattern(env, 'PLEXUS_LOG_FORMAT', env.NODE_ENV === 'production' ? 'json' : 'text', /^(json|text)$/, 'json or text') as
      'json' | 'text',
    logLevel: readPattern(
      env,
      'PLEXUS_LOG_LEVEL',
      'log',
      /^(error|warn|log|debug|verbose)$/,
      'error, warn, log, debug or verbose',
    ) as LogLevelName,
  };
}

/** Read once: NATS subjects are decorator arguments and must be known when modules load. */
export const sharedConfig: SharedConfig = readSharedConfig();
