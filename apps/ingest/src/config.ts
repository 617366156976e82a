import { readInt, readSharedConfig, type SharedConfig } from '#common';

export interface IngestConfig extends SharedConfig {
  httpPort: number;
  /** Most JetStream messages (requests) written in one transaction. */
  batchMessages: number;
  /** Most bytes of messages written in one transaction (a message larger than this is written alone). */
  batchBytes: number;
  /** Most bytes of messages held in memory, waiting to be written. */
  bufferBytes: number;
  /** Transactions written in parallel. */
  writers: number;
  /** Deliveries of a message that keeps failing before it goes to the dead-letter subject. */
  maxAttempts: number;
  /** JetStream redelivers a message not acknowledged within this time. */
  ackWaitMs: number;
  /** Points older than this many days are deleted; 0 keeps everything. */
  retentionDays: number;
  /** On plain PostgreSQL, how often the deletion runs. */
  retentionCheckSeconds: number;
  /** On TimescaleDB, chunks older than this many days are compressed; 0 turns compression off. */
  compressAfterDays: number;
  /** Connections of the write pool (the writers' COPY, sessions, retention, health). */
  writePoolSize: number;
  /** Connections of the read pool (query and export cursors): the most cursors open at once on this instance. */
  readPoolSize: number;
  /** How long a query waits for a read connection before it is answered 503. */
  readQueueTimeoutMs: number;
  /** statement_timeout of the read pool: the longest one query or FETCH may run. */
  queryStatementTimeoutMs: number;
  /** idle_in_transaction_session_timeout of the read pool: a cursor left waiting this long is ended by PostgreSQL. */
  queryIdleTimeoutMs: number;
  /** How long a streamed answer waits for the caller to take a chunk before its cursor is closed. */
  streamAckTimeoutMs: number;
}

function readConfig(env = process.env): IngestConfig {
  const writers = readInt(env, 'PLEXUS_INGEST_WRITERS', 2, 1, 32);
  const streamAckTimeoutMs = readInt(env, 'PLEXUS_STREAM_ACK_TIMEOUT_MS', 15_000, 1000, 600_000);
  return {
    ...readSharedConfig(env),
    httpPort: readInt(env, 'INGEST_HTTP_PORT', 8082, 0, 65535),
    batchMessages: readInt(env, 'PLEXUS_INGEST_BATCH_MESSAGES', 256, 1, 10_000),
    batchBytes: readInt(env, 'PLEXUS_INGEST_BATCH_BYTES', 2 * 1024 * 1024, 1024),
    bufferBytes: readInt(env, 'PLEXUS_INGEST_BUFFER_BYTES', 64 * 1024 * 1024, 1024 * 1024),
    writers,
    maxAttempts: readInt(env, 'PLEXUS_INGEST_MAX_ATTEMPTS', 5, 1, 1000),
    ackWaitMs: readInt(env, 'PLEXUS_INGEST_ACK_WAIT_MS', 30_000, 1000, 3_600_000),
    retentionDays: readInt(env, 'PLEXUS_RETENTION_DAYS', 0, 0, 36_500),
    retentionCheckSeconds: readInt(env, 'PLEXUS_RETENTION_CHECK_SECONDS', 600, 1, 86_400),
    compressAfterDays: readInt(env, 'PLEXUS_COMPRESS_AFTER_DAYS', 7, 0, 36_500),
    // Writers each hold one connection for a batch; the rest serve sessions, retention and health.
    writePoolSize: readInt(env, 'PLEXUS_INGEST_WRITE_POOL_SIZE', writers + 4, writers + 1, 200),
    readPoolSize: readInt(env, 'PLEXUS_INGEST_READ_POOL_SIZE', 4, 1, 100),
    readQueueTimeoutMs: readInt(env, 'PLEXUS_INGEST_READ_QUEUE_TIMEOUT_MS', 2_000, 100, 60_000),
    queryStatementTimeoutMs: readInt(env, 'PLEXUS_QUERY_STATEMENT_TIMEOUT_MS', 30_000, 100, 3_600_000),
    // Longer than the ack wait: a cursor idles in its transaction while the caller takes a chunk.
    queryIdleTimeoutMs: readInt(
      env,
      'PLEXUS_QUERY_IDLE_IN_TRANSACTION_TIMEOUT_MS',
      2 * streamAckTimeoutMs,
      streamAckTimeoutMs + 1000,
      3_600_000,
    ),
    streamAckTimeoutMs,
  };
}

export const config: IngestConfig = readConfig();
