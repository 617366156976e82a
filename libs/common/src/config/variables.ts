import Type, { type Static } from 'typebox';
import { API_KEY_PATTERN } from '../credentials.js';
import { APPS, derivedInt, derivedUrl, int, MAX, type Reader, text, url, type Variable } from './variable-kinds.js';

export type { Reader, Variable } from './variable-kinds.js';

/**
 * Every environment variable Plexus reads, in one place: its type and bounds (a TypeBox schema,
 * checked by ajv in read-variables.ts), its default, what it does and which programs read it.
 * Each app's config is parsed from the variables tagged with its name; `.env.example` and
 * docs/configuration.md are generated from this list and a unit test keeps them equal.
 */
const SHARED = 'Every app';
const NATS = 'NATS (every app, and npm run ops)';
const LOGS = 'Logs (every app)';
const PORTS = 'Ports and addresses';
const GATEWAY = 'Gateway';
const HTTP = 'Gateway HTTP timeouts';
const PAIRING = 'Pairing';
const INGEST = 'Ingest';
const POOLS = 'Ingest database pools and queries';
const RETENTION = 'Retention (ingest)';
const REALTIME = 'Realtime sockets';
const ALERTS = 'Alerts';
const START = 'npm start (the launcher)';
const COMPOSE = 'docker compose only';
const WITH_OPS = [...APPS, 'ops'] as const;

export const VARIABLES = {
  DATABASE_URL: url(
    SHARED,
    APPS,
    ['postgres:', 'postgresql:'],
    'postgres://postgres@127.0.0.1:5432/plexus',
    'Where PostgreSQL is (the database is created and migrated at start).',
  ),
  PLEXUS_STREAM_REPLICAS: int(SHARED, APPS, 1, 5, 1, 'Copies JetStream keeps of each stream: 1 on one NATS server, 3 on a 3-node cluster.'),
  PLEXUS_IDEMPOTENCY_WINDOW_SECONDS: int(
    SHARED,
    APPS,
    1,
    7 * 24 * 3600,
    600,
    'How long JetStream remembers an Idempotency-Key, in seconds.',
  ),
  PLEXUS_PUBLISH_TIMEOUT_MS: int(
    SHARED,
    APPS,
    100,
    60_000,
    5_000,
    'How long to wait for JetStream to store an ingest request before answering 503.',
  ),

  NATS_URL: url(
    NATS,
    WITH_OPS,
    ['nats:', 'tls:'],
    'nats://127.0.0.1:4222',
    'The NATS server (with JetStream); tls:// requires TLS; may carry user:password@ or token@.',
  ),
  NATS_USER: text(
    NATS,
    WITH_OPS,
    Type.String(),
    { must: 'given with NATS_PASSWORD' },
    'A NATS user (with NATS_PASSWORD; at most one way of signing in is given).',
  ),
  NATS_PASSWORD: text(
    NATS,
    WITH_OPS,
    Type.String(),
    { must: 'given with NATS_USER', secret: true },
    "That user's password (both or neither).",
  ),
  NATS_TOKEN: text(NATS, WITH_OPS, Type.String(), { secret: true }, 'A NATS token.'),
  NATS_CREDS: text(
    NATS,
    WITH_OPS,
    Type.String(),
    { must: 'a readable NATS credentials file' },
    'Path of a .creds file (user JWT + nkey seed, as `nsc generate creds` writes); read again at each reconnect.',
  ),
  NATS_NKEY_SEED: text(
    NATS,
    WITH_OPS,
    Type.String(),
    { must: '"SU" and 56 letters A-Z or digits 2-7', secret: true },
    'A user nkey seed (SU…).',
  ),
  NATS_TLS_CA: text(
    NATS,
    WITH_OPS,
    Type.String(),
    { must: 'a readable file' },
    "PEM file of the CA that signed the NATS server's certificate (requires TLS).",
  ),
  NATS_TLS_CERT: text(
    NATS,
    WITH_OPS,
    Type.String(),
    { must: 'a readable file, given with NATS_TLS_KEY' },
    'PEM client certificate, when the server verifies clients (with NATS_TLS_KEY).',
  ),
  NATS_TLS_KEY: text(
    NATS,
    WITH_OPS,
    Type.String(),
    { must: 'a readable file, given with NATS_TLS_CERT' },
    'PEM key of that client certificate.',
  ),
  PLEXUS_NATS_PREFIX: text(
    NATS,
    WITH_OPS,
    Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]{0,31}$' }),
    { default: 'plexus', must: 'a letter followed by up to 31 letters, digits, _ or -' },
    'Prefix of every NATS subject and JetStream stream, so several platforms can share one NATS.',
  ),

  NODE_ENV: text(LOGS, APPS, Type.String(), {}, 'production: JSON logs unless PLEXUS_LOG_FORMAT says otherwise.'),
  PLEXUS_LOG_FORMAT: text(
    LOGS,
    APPS,
    Type.Union([Type.Literal('json'), Type.Literal('text')]),
    { derivedDefault: 'json when NODE_ENV=production, else text', must: 'json or text' },
    'json (one object a line, for log shippers) or text (coloured lines for people).',
  ),
  PLEXUS_LOG_LEVEL: text(
    LOGS,
    APPS,
    Type.Union([Type.Literal('error'), Type.Literal('warn'), Type.Literal('log'), Type.Literal('debug'), Type.Literal('verbose')]),
    { default: 'log', must: 'error, warn, log, debug or verbose' },
    'The least severe level written; debug adds a line per ingest request and per committed batch.',
  ),

  GATEWAY_PORT: int(PORTS, ['gateway'], 0, 65535, 8080, 'HTTP port of the gateway (API, dashboard).'),
  GATEWAY_HOST: text(PORTS, ['gateway'], Type.String(), { default: '0.0.0.0' }, 'Address the gateway listens on.'),
  REALTIME_PORT: int(
    PORTS,
    ['gateway', 'realtime'],
    0,
    65535,
    8081,
    'WebSocket port of realtime (the gateway derives PUBLIC_WS_URL from it).',
  ),
  INGEST_HTTP_PORT: int(PORTS, ['ingest'], 0, 65535, 8082, 'Health and metrics port of ingest.'),
  PAIRING_HTTP_PORT: int(PORTS, ['pairing'], 0, 65535, 8083, 'Health and metrics port of pairing.'),
  ALERTS_HTTP_PORT: int(PORTS, ['alerts'], 0, 65535, 8084, 'Health and metrics port of alerts.'),
  PUBLIC_URL: derivedUrl(
    PORTS,
    ['gateway'],
    ['http:', 'https:'],
    'http://127.0.0.1 on GATEWAY_PORT',
    'What /api/config and pairing hand out to devices.',
  ),
  PUBLIC_WS_URL: derivedUrl(
    PORTS,
    ['gateway'],
    ['ws:', 'wss:'],
    "PUBLIC_URL's host on REALTIME_PORT (wss for https)",
    'The realtime WebSocket base handed out.',
  ),

  PLEXUS_KEY_CACHE_TTL_MS: int(
    GATEWAY,
    ['gateway'],
    0,
    3_600_000,
    30_000,
    'How long a verified API key is trusted before asking again (a revocation drops it at once).',
  ),
  PLEXUS_TRUSTED_PROXIES: text(
    GATEWAY,
    ['gateway'],
    Type.String(),
    { must: 'comma-separated IP addresses or CIDRs' },
    'Proxies (comma-separated IPs or CIDRs) whose X-Forwarded-For is believed; empty: the TCP peer is the client.',
  ),
  PLEXUS_PAIRING_FAILURES_PER_ADDRESS: int(
    GATEWAY,
    ['gateway'],
    1,
    1000,
    10,
    'Wrong pairing codes per client address within the window (slowed after 3, then 429).',
  ),
  PLEXUS_PAIRING_FAILURE_WINDOW_SECONDS: int(GATEWAY, ['gateway'], 1, 86_400, 600, 'That window, in seconds.'),
  PLEXUS_PAIRING_FAILURES_PER_MINUTE: int(
    GATEWAY,
    ['gateway'],
    1,
    1_000_000,
    100,
    'Wrong pairing codes per minute across all addresses, then 429.',
  ),
  PLEXUS_QUERY_CONCURRENCY_PER_KEY: int(
    GATEWAY,
    ['gateway'],
    1,
    1000,
    4,
    'Queries and exports one API key may have in flight at once (one more waits up to 2 s, then 429).',
  ),
  PLEXUS_STREAM_ACK_TIMEOUT_MS: int(
    GATEWAY,
    ['gateway', 'ingest'],
    1000,
    600_000,
    15_000,
    'A query or export answer whose client takes no data this long is abandoned (cursor closed).',
  ),

  PLEXUS_HTTP_REQUEST_TIMEOUT_MS: int(
    HTTP,
    ['gateway'],
    1000,
    3_600_000,
    30_000,
    'The whole request, headers and body, must arrive within this; else 408.',
  ),
  PLEXUS_HTTP_HEADERS_TIMEOUT_MS: derivedInt(
    HTTP,
    ['gateway'],
    1000,
    3_600_000,
    '15000, or the request timeout if shorter',
    'The request headers must arrive within this (at most the request timeout); else 408.',
  ),
  PLEXUS_HTTP_KEEP_ALIVE_TIMEOUT_MS: int(HTTP, ['gateway'], 1000, 3_600_000, 72_000, 'An idle kept-alive connection is closed after this.'),
  PLEXUS_HTTP_IDLE_TIMEOUT_MS: int(
    HTTP,
    ['gateway'],
    1000,
    3_600_000,
    120_000,
    'A socket with no traffic either way is closed after this.',
  ),

  PLEXUS_BOOTSTRAP_ADMIN_KEY: text(
    PAIRING,
    ['pairing'],
    Type.String({ pattern: API_KEY_PATTERN.source }),
    { must: '"plx_" followed by 40 letters or digits', secret: true },
    'On an empty database the org "default" gets this admin key; unset: a random one is printed once.',
  ),
  PLEXUS_BOOTSTRAP_ORG_NAME: text(
    PAIRING,
    ['pairing'],
    Type.String({ minLength: 1, maxLength: 128 }),
    { default: 'default', must: '1 to 128 characters', trim: true },
    'Display name of that org (shown in the dashboard); its id stays "default".',
  ),
  PLEXUS_PAIRING_CODE_TTL_SECONDS: int(PAIRING, ['pairing'], 1, 86_400, 600, 'How long a pairing code stays valid, in seconds.'),
  PLEXUS_PAIRING_SECRET: text(
    PAIRING,
    ['pairing'],
    // A short secret would let anyone holding a stolen table try every code and secret together.
    Type.String({ minLength: 32, maxLength: 512 }),
    { must: '32 to 512 characters (e.g. `openssl rand -hex 32`)', secret: true },
    'Pairing codes are stored as HMAC-SHA256 under this; unset: one is generated and kept in the database.',
  ),

  PLEXUS_INGEST_BATCH_MESSAGES: int(INGEST, ['ingest'], 1, 10_000, 256, 'Most JetStream messages (requests) written in one transaction.'),
  PLEXUS_INGEST_BATCH_BYTES: int(INGEST, ['ingest'], 1024, MAX, 2 * 1024 * 1024, 'Most bytes of messages written in one transaction.'),
  PLEXUS_INGEST_WRITERS: int(
    INGEST,
    ['ingest'],
    1,
    32,
    2,
    'Transactions written in parallel at most; a second starts only on a backlog of half PLEXUS_INGEST_BATCH_BYTES or a whole PLEXUS_INGEST_BATCH_MESSAGES.',
  ),
  PLEXUS_INGEST_BUFFER_BYTES: int(
    INGEST,
    ['ingest'],
    1024 * 1024,
    MAX,
    64 * 1024 * 1024,
    'Most bytes of messages held in memory, waiting to be written.',
  ),
  PLEXUS_INGEST_MAX_ATTEMPTS: int(INGEST, ['ingest'], 1, 1000, 5, 'Deliveries of a message that keeps failing before it is dead-lettered.'),
  PLEXUS_INGEST_ACK_WAIT_MS: int(
    INGEST,
    ['ingest'],
    1000,
    3_600_000,
    30_000,
    'JetStream redelivers a message not acknowledged within this.',
  ),

  PLEXUS_INGEST_WRITE_POOL_SIZE: derivedInt(
    POOLS,
    ['ingest'],
    2,
    200,
    'PLEXUS_INGEST_WRITERS + 4 (at least writers + 1)',
    "Connections of the write pool (the writers' COPY, sessions, retention, health).",
  ),
  PLEXUS_INGEST_READ_POOL_SIZE: int(
    POOLS,
    ['ingest'],
    1,
    100,
    4,
    'Connections of the read pool: the most query and export cursors open at once.',
  ),
  PLEXUS_INGEST_READ_QUEUE_TIMEOUT_MS: int(
    POOLS,
    ['ingest'],
    100,
    60_000,
    2_000,
    'How long a query waits for a read connection before it is answered 503.',
  ),
  PLEXUS_QUERY_STATEMENT_TIMEOUT_MS: int(
    POOLS,
    ['ingest'],
    100,
    3_600_000,
    30_000,
    'statement_timeout of the read pool: the longest one query or FETCH may run.',
  ),
  PLEXUS_QUERY_IDLE_IN_TRANSACTION_TIMEOUT_MS: derivedInt(
    POOLS,
    ['ingest'],
    2000,
    3_600_000,
    '2 × PLEXUS_STREAM_ACK_TIMEOUT_MS (longer than it by 1 s at least)',
    'idle_in_transaction_session_timeout of the read pool.',
  ),

  PLEXUS_RETENTION_DAYS: int(RETENTION, ['ingest'], 0, 36_500, 0, 'Points older than this many days are deleted; 0 keeps everything.'),
  PLEXUS_RETENTION_CHECK_SECONDS: int(
    RETENTION,
    ['ingest'],
    1,
    86_400,
    600,
    'On plain PostgreSQL, how often the deletion runs (in small batches).',
  ),
  PLEXUS_COMPRESS_AFTER_DAYS: int(
    RETENTION,
    ['ingest'],
    0,
    36_500,
    7,
    'On TimescaleDB, chunks older than this many days are compressed; 0: no compression.',
  ),

  PLEXUS_WS_AUTH_TIMEOUT_MS: int(
    REALTIME,
    ['realtime'],
    100,
    600_000,
    10_000,
    'The first frame must authenticate within this (else close 4008).',
  ),
  PLEXUS_WS_PING_INTERVAL_MS: int(REALTIME, ['realtime'], 100, 600_000, 20_000, 'Protocol pings; a socket that misses two is closed.'),
  PLEXUS_WS_BROWSER_QUEUE: int(
    REALTIME,
    ['realtime'],
    1,
    1_000_000,
    1000,
    'Live telemetry messages kept for a slow browser; the oldest are dropped beyond it.',
  ),
  PLEXUS_WS_SEND_QUEUE_BYTES: int(
    REALTIME,
    ['realtime'],
    1024 * 1024,
    1024 * 1024 * 1024,
    4 * 1024 * 1024,
    "Bytes a socket's send queue may hold before it is closed with 4013.",
  ),
  PLEXUS_WS_SEND_STALL_MS: int(
    REALTIME,
    ['realtime'],
    1000,
    3_600_000,
    60_000,
    'A send queue that does not move this long closes the socket with 4013.',
  ),
  PLEXUS_WS_TELEMETRY_MAX_AGE_MS: int(
    REALTIME,
    ['realtime'],
    10,
    3_600_000,
    1000,
    'Live telemetry older than this (since realtime read it from the device) is dropped at every hop where it could wait, counted and reported to the browser (`telemetry_dropped`), never delivered late.',
  ),
  PLEXUS_WS_DEVICE_RATE: int(REALTIME, ['realtime'], 1, 1_000_000, 1000, 'Messages per second a device may send.'),
  PLEXUS_WS_DEVICE_BURST: int(REALTIME, ['realtime'], 1, 1_000_000, 2000, 'Burst of messages a device may send.'),
  PLEXUS_WS_BROWSER_RATE: int(REALTIME, ['realtime'], 1, 1_000_000, 50, 'Messages per second a browser may send.'),
  PLEXUS_WS_BROWSER_BURST: int(REALTIME, ['realtime'], 1, 1_000_000, 100, 'Burst of messages a browser may send.'),
  PLEXUS_PRESENCE_LEASE_MS: int(
    REALTIME,
    ['realtime'],
    1000,
    600_000,
    6000,
    "Presence lease: an instance's devices go offline everywhere when it has not renewed them this long (it died).",
  ),
  PLEXUS_PRESENCE_RENEW_MS: int(
    REALTIME,
    ['realtime'],
    100,
    300_000,
    2000,
    'How often each realtime instance renews its presence lease; less than half of PLEXUS_PRESENCE_LEASE_MS.',
  ),

  PLEXUS_ALERTS_SECRET: text(
    ALERTS,
    ['alerts'],
    Type.String({ minLength: 32, maxLength: 512 }),
    { must: '32 to 512 characters (e.g. `openssl rand -hex 32`)', secret: true },
    'Webhook signing secrets are derived from this (HMAC-SHA256); unset: one is generated and kept in the database.',
  ),
  PLEXUS_ALERTS_PARTITIONS: int(
    ALERTS,
    ['alerts'],
    1,
    64,
    4,
    'Orgs are split into this many partitions (1, 2, 4, 8, 16, 32 or 64), each evaluated by one alerts instance at a time; the same on every instance.',
  ),
  PLEXUS_ALERTS_LEASE_MS: int(
    ALERTS,
    ['alerts'],
    1000,
    600_000,
    6000,
    'A partition held by an alerts instance that stopped renewing it this long is taken over.',
  ),
  PLEXUS_ALERTS_RENEW_MS: int(
    ALERTS,
    ['alerts'],
    100,
    300_000,
    2000,
    'How often an alerts instance renews its partitions; less than half of PLEXUS_ALERTS_LEASE_MS.',
  ),
  PLEXUS_ALERTS_TICK_MS: int(ALERTS, ['alerts'], 100, 60_000, 1000, 'How often no_data, offline and duration timers are checked.'),
  PLEXUS_WEBHOOK_TIMEOUT_MS: int(ALERTS, ['alerts'], 100, 120_000, 10_000, 'How long one webhook attempt waits for an answer.'),
  PLEXUS_WEBHOOK_RETRY_MAX_MS: int(
    ALERTS,
    ['alerts'],
    100,
    86_400_000,
    600_000,
    'Longest wait between two attempts of a webhook (the wait doubles from 1 s).',
  ),
  PLEXUS_WEBHOOK_GIVE_UP_SECONDS: int(
    ALERTS,
    ['alerts'],
    1,
    30 * 86_400,
    86_400,
    'A webhook not answered 2xx within this long after the transition is given up (marked failed).',
  ),

  PLEXUS_START_VERBOSE: text(
    START,
    ['start'],
    Type.String({ pattern: '^[01]$' }),
    { default: '0', must: '0 or 1' },
    '1: every log line of every app on the terminal too (as `npm start -- --verbose`); 0: warnings, errors and the summary.',
  ),
  PLEXUS_START_LOG_DIR: text(
    START,
    ['start'],
    Type.String({ minLength: 1, maxLength: 4096 }),
    { derivedDefault: '.plexus/logs in the checkout' },
    "Where npm start writes each app's full log (<app>.log, emptied at each start).",
  ),

  POSTGRES_PASSWORD: text(
    COMPOSE,
    ['compose'],
    Type.String(),
    { default: 'plexus', secret: true },
    'The TimescaleDB password (compose also gives NATS the user NATS_USER/NATS_PASSWORD, plexus/plexus when empty).',
  ),
} satisfies Record<string, Variable>;

export type VariableName = keyof typeof VARIABLES;

/** A variable's value once read: absent only when it has neither a value nor a fixed default. */
export type ValueOf<N extends VariableName> = (typeof VARIABLES)[N] extends { default: unknown }
  ? Static<(typeof VARIABLES)[N]['schema']>
  : Static<(typeof VARIABLES)[N]['schema']> | undefined;

/** The variables one program reads. */
export type VariableOf<R extends Reader> = {
  [N in VariableName]: R extends (typeof VARIABLES)[N]['readers'][number] ? N : never;
}[VariableName];

export function variablesOf<R extends Reader>(reader: R): VariableOf<R>[] {
  return (Object.keys(VARIABLES) as VariableName[]).filter((name) =>
    (VARIABLES[name].readers as readonly Reader[]).includes(reader),
  ) as VariableOf<R>[];
}
