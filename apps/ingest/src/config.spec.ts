import { describe, expect, it } from '@jest/globals';
import { readIngestConfig } from './config.js';

describe('readIngestConfig', () => {
  it('has the documented defaults, the write pool and idle timeout derived from writers and the ack timeout', () => {
    expect(readIngestConfig({})).toMatchObject({
      httpPort: 8082,
      batchMessages: 256,
      batchBytes: 2 * 1024 * 1024,
      bufferBytes: 64 * 1024 * 1024,
      writers: 2,
      maxAttempts: 5,
      ackWaitMs: 30_000,
      retentionDays: 0,
      retentionCheckSeconds: 600,
      compressAfterDays: 7,
      writePoolSize: 6,
      readPoolSize: 4,
      readQueueTimeoutMs: 2_000,
      queryStatementTimeoutMs: 30_000,
      queryIdleTimeoutMs: 30_000,
      streamAckTimeoutMs: 15_000,
    });
    expect(readIngestConfig({ PLEXUS_INGEST_WRITERS: '8', PLEXUS_STREAM_ACK_TIMEOUT_MS: '20000' })).toMatchObject({
      writePoolSize: 12,
      queryIdleTimeoutMs: 40_000,
    });
  });

  it('refuses a write pool smaller than writers + 1, and an idle timeout not above the ack timeout', () => {
    expect(() => readIngestConfig({ PLEXUS_INGEST_WRITERS: '5', PLEXUS_INGEST_WRITE_POOL_SIZE: '5' })).toThrow(
      'PLEXUS_INGEST_WRITE_POOL_SIZE must be a whole number from 6 to 200, got "5"',
    );
    expect(readIngestConfig({ PLEXUS_INGEST_WRITERS: '5', PLEXUS_INGEST_WRITE_POOL_SIZE: '6' }).writePoolSize).toBe(6);
    expect(() => readIngestConfig({ PLEXUS_QUERY_IDLE_IN_TRANSACTION_TIMEOUT_MS: '15999' })).toThrow(
      'PLEXUS_QUERY_IDLE_IN_TRANSACTION_TIMEOUT_MS must be a whole number from 16000 to 3600000, got "15999"',
    );
    expect(() => readIngestConfig({ PLEXUS_INGEST_WRITERS: '33' })).toThrow('PLEXUS_INGEST_WRITERS must be a whole number from 1 to 32');
  });
});
