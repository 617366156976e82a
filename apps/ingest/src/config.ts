import { ConfigError, type Env, readSharedConfig, readVariables, SharedConfig, variablesOf } from '#common';

/** The ingest app's validated config; provided by ConfigModule.forApp(IngestConfig, readIngestConfig). */
export abstract class IngestConfig extends SharedConfig {
  abstract readonly httpPort: number;
  /** Most JetStream messages (requests) written in one transaction. */
  abstract readonly batchMessages: number;
  /** Most bytes of messages written in one transaction (a message larger than this is written alone). */
  abstract readonly batchBytes: number;
  /** Most bytes of messages held in memory, waiting to be written. */
  abstract readonly bufferBytes: number;
  /** Transactions written in parallel. */
  abstract readonly writers: number;
  /** Deliveries of a message that keeps failing before it goes to the dead-letter subject. */
  abstract readonly maxAttempts: number;
  /** JetStream redelivers a message not acknowledged within this time. */
  abstract readonly ackWaitMs: number;
  /** Points older than this many days are deleted; 0 keeps everything. */
  abstract readonly retentionDays: number;
  /** On plain PostgreSQL, how often the deletion runs. */
  abstract readonly retentionCheckSeconds: number;
  /** On TimescaleDB, chunks older than this many days are compressed; 0 turns compression off. */
  abstract readonly compressAfterDays: number;
  /** Connections of the write pool (the writers' COPY, sessions, retention, health). */
  abstract readonly writePoolSize: number;
  /** Connections of the read pool (query and export cursors): the most cursors open at once on this instance. */
  abstract readonly readPoolSize: number;
  /** How long a query waits for a read connection before it is answered 503. */
  abstract readonly readQueueTimeoutMs: number;
  /** statement_timeout of the read pool: the longest one query or FETCH may run. */
  abstract readonly queryStatementTimeoutMs: number;
  /** idle_in_transaction_session_timeout of the read pool: a cursor left waiting this long is ended by PostgreSQL. */
  abstract readonly queryIdleTimeoutMs: number;
  /** How long a streamed answer waits for the caller to take a chunk before its cursor is closed. */
  abstract readonly streamAckTimeoutMs: number;
}

/** Reads and checks the ingest app's variables; throws a ConfigError naming each bad one. Also what main.ts uses before Nest. */
export function readIngestConfig(env: Env = process.env): IngestConfig {
  const variables = readVariables(variablesOf('ingest'), env);
  const writers = variables.PLEXUS_INGEST_WRITERS;
  const streamAckTimeoutMs = variables.PLEXUS_STREAM_ACK_TIMEOUT_MS;
  return {
    ...readSharedConfig(env),
    httpPort: variables.INGEST_HTTP_PORT,
    batchMessages: variables.PLEXUS_INGEST_BATCH_MESSAGES,
    batchBytes: variables.PLEXUS_INGEST_BATCH_BYTES,
    bufferBytes: variables.PLEXUS_INGEST_BUFFER_BYTES,
    writers,
    maxAttempts: variables.PLEXUS_INGEST_MAX_ATTEMPTS,
    ackWaitMs: variables.PLEXUS_INGEST_ACK_WAIT_MS,
    retentionDays: variables.PLEXUS_RETENTION_DAYS,
    retentionCheckSeconds: variables.PLEXUS_RETENTION_CHECK_SECONDS,
    compressAfterDays: variables.PLEXUS_COMPRESS_AFTER_DAYS,
    // Writers each hold one connection for a batch; the rest serve sessions, retention and health.
    writePoolSize: atLeast(env, 'PLEXUS_INGEST_WRITE_POOL_SIZE', variables.PLEXUS_INGEST_WRITE_POOL_SIZE ?? writers + 4, writers + 1, 200),
    readPoolSize: variables.PLEXUS_INGEST_READ_POOL_SIZE,
    readQueueTimeoutMs: variables.PLEXUS_INGEST_READ_QUEUE_TIMEOUT_MS,
    queryStatementTimeoutMs: variables.PLEXUS_QUERY_STATEMENT_TIMEOUT_MS,
    // Longer than the ack wait: a cursor idles in its transaction while the caller takes a chunk.
    queryIdleTimeoutMs: atLeast(
      env,
      'PLEXUS_QUERY_IDLE_IN_TRANSACTION_TIMEOUT_MS',
      variables.PLEXUS_QUERY_IDLE_IN_TRANSACTION_TIMEOUT_MS ?? 2 * streamAckTimeoutMs,
      streamAckTimeoutMs + 1000,
      3_600_000,
    ),
    streamAckTimeoutMs,
  };
}

/** A lower bound that depends on another variable, which the schema's fixed bounds cannot say. */
function atLeast(
  env: Env,
  name: 'PLEXUS_INGEST_WRITE_POOL_SIZE' | 'PLEXUS_QUERY_IDLE_IN_TRANSACTION_TIMEOUT_MS',
  value: number,
  min: number,
  max: number,
) {
  if (value < min) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${env[name] ?? value}"`);
  return value;
}
