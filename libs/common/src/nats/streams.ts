import { AckPolicy, DeliverPolicy, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import type { SharedConfig } from '../config/shared-config.js';
import type { ReadinessCheck } from '../health/readiness.js';
import type { BrokerConnection } from './connection.js';
import { CONSUMERS, STREAMS, SUBJECTS } from '../subjects.js';

/** How long the alerts feed keeps a message, and its largest size. */
export const ALERT_FEED_MAX_AGE_MS = 24 * 3600 * 1000;
export const ALERT_FEED_MAX_BYTES = 1024 * 1024 * 1024;

/**
 * The durable telemetry stream (file storage, work-queue: a message leaves once the
 * ingest app has committed it) and the dead-letter stream. Idempotent: every app that
 * publishes or consumes calls it at start.
 */
export async function ensureTelemetryStreams(
  nc: NatsConnection,
  config: Pick<SharedConfig, 'idempotencyWindowSeconds' | 'streamReplicas'>,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const telemetry = {
    name: STREAMS.telemetry,
    subjects: [SUBJECTS.telemetry.all],
    storage: StorageType.File,
    retention: RetentionPolicy.Workqueue,
    duplicate_window: nanos(config.idempotencyWindowSeconds * 1000),
    num_replicas: config.streamReplicas,
  };
  const deadLetter = {
    name: STREAMS.deadLetter,
    subjects: [SUBJECTS.telemetry.deadLetterAll],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    max_age: nanos(30 * 24 * 3600 * 1000),
    num_replicas: config.streamReplicas,
  };
  // Limits, not work-queue: the alerts app's consumers read it, and nothing there is a promise to a
  // client (the points are stored before ingest publishes them); an alerts app down for more than
  // a day, or this many bytes behind, misses the oldest.
  const alertFeed = {
    name: STREAMS.alertFeed,
    subjects: [SUBJECTS.alerts.feedAll],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    max_age: nanos(ALERT_FEED_MAX_AGE_MS),
    max_bytes: ALERT_FEED_MAX_BYTES,
    duplicate_window: nanos(120_000),
    num_replicas: config.streamReplicas,
  };
  for (const stream of [telemetry, deadLetter, alertFeed]) {
    try {
      await jsm.streams.info(stream.name);
      await jsm.streams.update(stream.name, stream);
    } catch (error) {
      if (!/not found/i.test(String((error as Error).message))) throw error;
      await jsm.streams.add(stream).catch(async (addError: Error) => {
        // Another app created it in between.
        if (!/already in use|exists/i.test(addError.message)) throw addError;
      });
    }
  }
}

/** The ingest writers' shared durable pull consumer. */
export async function ensureIngestConsumer(nc: NatsConnection, ackWaitMs: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = {
    durable_name: CONSUMERS.ingestWriter,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ackWaitMs),
    max_ack_pending: 20_000,
    max_deliver: -1,
  };
  try {
    await jsm.consumers.info(STREAMS.telemetry, CONSUMERS.ingestWriter);
    await jsm.consumers.update(STREAMS.telemetry, CONSUMERS.ingestWriter, {
      ack_wait: config.ack_wait,
      max_ack_pending: config.max_ack_pending,
    });
  } catch (error) {
    if (!/not found/i.test(String((error as Error).message))) throw error;
    await jsm.consumers.add(STREAMS.telemetry, config);
  }
}

/** JetStream answers and holds the telemetry stream: what accepting ingest needs. */
export function telemetryStreamReadiness(broker: BrokerConnection): ReadinessCheck {
  return {
    name: 'jetstream',
    check: async () => (await (await jetstreamManager(broker.nc)).streams.info(STREAMS.telemetry)).config.name === STREAMS.telemetry,
  };
}
