import { Counter, collectDefaultMetrics, Gauge, Histogram, register } from 'prom-client';

/**
 * Every Prometheus metric the platform exports, in one place (docs/operations.md lists them
 * with the alerts worth having). Each app increments its own; all are registered everywhere,
 * which costs nothing and keeps names in one file.
 */
let defaultsCollected = false;

/**
 * How often the event-loop lag histogram samples, in ms. prom-client's default (10 ms) wakes an
 * idle app 100 times a second; at 100 ms the lag metric still shows any stall worth an alert
 * (docs/operations.md), and an idle app wakes ten times a second instead (an idle alerts app
 * with 1,000 rules: 13 → 8 ms of CPU a second).
 */
const EVENT_LOOP_LAG_RESOLUTION_MS = 100;

export function collectProcessMetrics(app: string): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  register.setDefaultLabels({ app });
  collectDefaultMetrics({ prefix: 'plexus_', eventLoopMonitoringPrecision: EVENT_LOOP_LAG_RESOLUTION_MS });
}

export const METRICS = {
  ingestRequests: new Counter({
    name: 'plexus_ingest_requests_total',
    help: 'Telemetry write requests (POST /api/ingest, /api/v2/write, /write) by answer status',
    labelNames: ['status'],
  }),
  ingestPointsAccepted: new Counter({
    name: 'plexus_ingest_points_accepted_total',
    help: 'Points accepted by the gateway (stored in JetStream)',
  }),
  ingestPointsRejected: new Counter({ name: 'plexus_ingest_points_rejected_total', help: 'Points in ingest requests that were refused' }),
  writerPointsWritten: new Counter({
    name: 'plexus_writer_points_written_total',
    help: 'Points committed to PostgreSQL by this ingest app',
  }),
  writerPullStalls: new Counter({
    name: 'plexus_writer_pull_stalls_total',
    help: 'Pulls of the telemetry stream that ended by missed heartbeats (the server had ended them unseen: a stall of 2 s)',
  }),
  writerBatchMessages: new Histogram({
    name: 'plexus_writer_batch_messages',
    help: 'JetStream messages per write transaction',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
  }),
  writerBatchPoints: new Histogram({
    name: 'plexus_writer_batch_points',
    help: 'Points per write transaction',
    buckets: [1, 10, 100, 1000, 5000, 10000, 50000, 100000],
  }),
  writerWriteSeconds: new Histogram({
    name: 'plexus_writer_write_seconds',
    help: 'Time to write and commit one batch',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  }),
  writerFailures: new Counter({ name: 'plexus_writer_failures_total', help: 'Failed write attempts by kind', labelNames: ['kind'] }),
  writerDeadLetters: new Counter({ name: 'plexus_writer_dead_letters_total', help: 'Messages moved to the dead-letter subject' }),
  realtimeMessages: new Counter({
    name: 'plexus_realtime_device_messages_total',
    help: 'Messages relayed from devices, by type',
    labelNames: ['type'],
  }),
  realtimeCommands: new Counter({
    name: 'plexus_realtime_commands_total',
    help: 'Dashboard → device messages, by type and outcome',
    labelNames: ['type', 'outcome'],
  }),
  realtimeDropped: new Counter({
    name: 'plexus_realtime_dropped_telemetry_total',
    help: 'Live telemetry dropped for slow browsers (queue full or older than the ceiling)',
  }),
  realtimeDroppedLate: new Counter({
    name: 'plexus_realtime_dropped_late_telemetry_total',
    help: 'Live telemetry dropped for being older than PLEXUS_WS_TELEMETRY_MAX_AGE_MS, by where it waited',
    labelNames: ['hop'],
  }),
  realtimeRateLimited: new Counter({
    name: 'plexus_realtime_rate_limited_total',
    help: 'Messages ignored for exceeding a rate limit',
    labelNames: ['kind'],
  }),
  pairings: new Counter({ name: 'plexus_pairings_total', help: 'Pairing attempts by outcome', labelNames: ['outcome'] }),
  unexpectedErrors: new Counter({
    name: 'plexus_unexpected_errors_total',
    help: 'Errors no handler expected (each logged with an error id), by where they were caught',
    labelNames: ['where'],
  }),
  keyVerifications: new Counter({
    name: 'plexus_key_verifications_total',
    help: 'API key verifications by outcome',
    labelNames: ['outcome'],
  }),
} as const;

/** A gauge whose value is read when Prometheus scrapes. */
export function scrapeGauge(name: string, help: string, labelNames: string[], read: (gauge: Gauge) => Promise<void> | void): Gauge {
  const existing = register.getSingleMetric(name) as Gauge | undefined;
  if (existing) return existing;
  return new Gauge({
    name,
    help,
    labelNames,
    async collect() {
      await read(this);
    },
  });
}
