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
}

function readConfig(env = process.env): IngestConfig {
  return {
    ...readSharedConfig(env),
    httpPort: readInt(env, 'INGEST_HTTP_PORT', 8082, 0, 65535),
    batchMessages: readInt(env, 'PLEXUS_INGEST_BATCH_MESSAGES', 256, 1, 10_000),
    batchBytes: readInt(env, 'PLEXUS_INGEST_BATCH_BYTES', 2 * 1024 * 1024, 1024),
    bufferBytes: readInt(env, 'PLEXUS_INGEST_BUFFER_BYTES', 64 * 1024 * 1024, 1024 * 1024),
    writers: readInt(env, 'PLEXUS_INGEST_WRITERS', 2, 1, 32),
    maxAttempts: readInt(env, 'PLEXUS_INGEST_MAX_ATTEMPTS', 5, 1, 1000),
    ackWaitMs: readInt(env, 'PLEXUS_INGEST_ACK_WAIT_MS', 30_000, 1000, 3_600_000),
    retentionDays: readInt(env, 'PLEXUS_RETENTION_DAYS', 0, 0, 36_500),
    retentionCheckSeconds: readInt(env, 'PLEXUS_RETENTION_CHECK_SECONDS', 600, 1, 86_400),
    compressAfterDays: readInt(env, 'PLEXUS_COMPRESS_AFTER_DAYS', 7, 0, 36_500),
  };
}

export const config: IngestConfig = readConfig();
