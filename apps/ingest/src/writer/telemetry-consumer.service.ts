import { type BeforeApplicationShutdown, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { type Consumer, jetstream, type JetStreamClient, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import {
  BrokerConnection,
  CONSUMERS,
  decodeTelemetryMessage,
  ENCODING_HEADER,
  ensureIngestConsumer,
  ensureTelemetryStreams,
  HEADERS,
  METRICS,
  scrapeGauge,
  STREAMS,
  SUBJECTS,
  type TelemetryBatch,
  TelemetryDecodeError,
} from '#common';
import { IngestConfig } from '../config.js';
import { feedAlerts } from './alert-feed.js';
import { isTransientFailure } from './failure.js';
import { PoisonMessageError } from './point-rows.js';
import { PointsWriter, type WrittenRuns } from './points-writer.service.js';

const RETRY_DELAY_MS = 1000;
/** How long one pull request waits for messages, at most: the most a shutdown waits for the pulls in flight. */
const FETCH_EXPIRES_MS = 2000;
/**
 * Pull requests kept open at once, each for its share of the buffer. With one, ingest stalled for
 * 2-4 s now and then under load: nats-server (2.9.10 here) had ended the pull request (the
 * consumer showed no waiting request) while the client never got the end notice, so it waited
 * out its two missed heartbeats (2 s) with messages piling up in the stream. Measured in
 * bench:alerts, one round in three or four ran at half rate for it. With two, a pull whose end was
 * lost leaves the other one taking messages — as long as the two do not end together: pulls that
 * run out their time (the usual end at a steady load) last exactly as long, and the two were seen
 * in step, ending within a millisecond of each other and stalling together (no waiting request,
 * nothing unacked, 1.9 s, about once every 2–3 minutes under bench:alerts' unbroken load). So each
 * pull lasts a random 75–100 % of FETCH_EXPIRES_MS, and the two pulls' ends drift apart.
 */
const PULLS_IN_FLIGHT = 2;

/**
 * Reads the telemetry stream with the shared durable pull consumer and writes it in
 * batches: messages that arrive while a batch is being written form the next one (group
 * commit). A message is acked only after its transaction commits. A message that keeps
 * failing is dead-lettered with its reason after `maxAttempts` deliveries; a database that
 * is away is waited for, never a reason to dead-letter.
 */
@Injectable()
export class TelemetryConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(TelemetryConsumer.name);
  private js: JetStreamClient;
  private readonly buffer: JsMsg[] = [];
  private bufferedBytes = 0;
  private wakeWriters: Array<() => void> = [];
  /** Writers with a transaction in flight. */
  private busyWriters = 0;
  private wakePumps: Array<() => void> = [];
  private stopping = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly broker: BrokerConnection,
    private readonly writer: PointsWriter,
    private readonly config: IngestConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await ensureTelemetryStreams(this.broker.nc, this.config);
    await ensureIngestConsumer(this.broker.nc, this.config.ackWaitMs);
    this.js = jetstream(this.broker.nc);
    this.exportLag();
    this.loops = [
      ...Array.from({ length: PULLS_IN_FLIGHT }, () => this.pump()),
      ...Array.from({ length: this.config.writers }, () => this.writeLoop()),
    ];
  }

  /** Before NATS and the database close: finish the batches in hand, ack them, hand the rest back. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    for (const wake of this.wakePumps.splice(0)) wake();
    for (const wake of this.wakeWriters.splice(0)) wake();
    await Promise.allSettled(this.loops);
    // Whatever was fetched but not written goes back at once rather than after ack_wait.
    for (const msg of this.buffer.splice(0)) msg.nak();
  }

  /** Consumer lag as JetStream reports it, read at scrape time. */
  private exportLag(): void {
    const jsm = jetstreamManager(this.broker.nc);
    scrapeGauge(
      'plexus_jetstream_consumer_pending_messages',
      'Telemetry messages waiting in JetStream for the ingest consumer',
      ['state'],
      async (gauge) => {
        const info = await (await jsm).consumers.info(STREAMS.telemetry, CONSUMERS.ingestWriter).catch(() => undefined);
        if (!info) return;
        gauge.set({ state: 'pending' }, info.num_pending);
        gauge.set({ state: 'ack_pending' }, info.num_ack_pending);
        gauge.set({ state: 'redelivered' }, info.num_redelivered);
      },
    );
  }

  /**
   * Moves messages from JetStream into the buffer with one pull request at a time (each of the
   * PULLS_IN_FLIGHT pumps), asking for more only while the buffer has room. A pull is never cut
   * short: on shutdown the one in flight runs out (at most FETCH_EXPIRES_MS) and what it still brings is handed back with a
   * nak. Stopping a subscription mid-pull would drop messages the server had already sent, and
   * those would sit unacknowledged for the whole ack wait before another instance got them.
   */
  private async pump(): Promise<void> {
    let consumer: Consumer | undefined;
    while (!this.stopping) {
      try {
        while (!this.stopping && (this.buffer.length > this.config.batchMessages * 2 || this.bufferedBytes >= this.config.bufferBytes)) {
          await new Promise<void>((resolve) => this.wakePumps.push(resolve));
        }
        if (this.stopping) return;
        consumer ??= await this.js.consumers.get(STREAMS.telemetry, CONSUMERS.ingestWriter);
        // PULLS_IN_FLIGHT pulls share what one pull of two batches' worth used to ask for.
        const pull = await consumer.fetch({
          max_messages: Math.max(1, Math.ceil((this.config.batchMessages * 2) / PULLS_IN_FLIGHT)),
          expires: Math.round(FETCH_EXPIRES_MS * (0.75 + Math.random() / 4)),
        });
        for await (const msg of pull) {
          if (this.stopping) {
            msg.nak();
            continue;
          }
          this.buffer.push(msg);
          this.bufferedBytes += msg.data.length;
          this.wakeWriters.shift()?.();
        }
      } catch (error) {
        if (this.stopping) return;
        if (heartbeatsMissed(error)) {
          // A pull whose idle heartbeats arrived late (a busy machine): the consumer is fine, pull
          // again at once. Handled as a lost connection it cost 3–5 s of stalled writing.
          this.logger.debug('pull ended: heartbeats missed; pulling again');
          METRICS.writerPullStalls.inc();
          continue;
        }
        consumer = undefined;
        this.logger.warn(`telemetry consumer interrupted (${(error as Error).message}); resuming`);
        await delay(RETRY_DELAY_MS);
        // The stream or consumer may have been lost with a broker that kept no state.
        await ensureTelemetryStreams(this.broker.nc, this.config)
          .then(() => ensureIngestConsumer(this.broker.nc, this.config.ackWaitMs))
          .catch((ensureError: Error) => this.logger.warn(`could not recreate the telemetry consumer: ${ensureError.message}`));
      }
    }
  }

  /** Up to batchMessages messages and batchBytes bytes, so parallel writers share a backlog. */
  private takeBatch(): JsMsg[] {
    let count = 0;
    let bytes = 0;
    while (
      count < this.buffer.length &&
      count < this.config.batchMessages &&
      (count === 0 || bytes + this.buffer[count].data.length <= this.config.batchBytes)
    ) {
      bytes += this.buffer[count].data.length;
      count++;
    }
    const batch = this.buffer.splice(0, count);
    this.bufferedBytes -= bytes;
    for (const wake of this.wakePumps.splice(0)) wake();
    return batch;
  }

  /**
   * One of `writers` loops. A second transaction starts beside one in flight only on a backlog of
   * half a batch's bytes (batchBytes / 2) or a whole batch's messages (batchMessages, for many
   * small requests): below that, what arrives while a transaction is written
   * waits for it and goes into the next one whole (group commit). Two writers splitting a small
   * backlog between them wrote twice as many transactions of half the size, and each costs the
   * ingest app and PostgreSQL a fixed part (a COPY's setup, the rollup upsert, the commit, the
   * feed publish): bench:ingest's headline went from 218–225k to 245–268k points/s with one
   * writer, ingest's CPU per point from 1.3–1.5 to 0.9–1.0 µs and PostgreSQL's from 2.4–2.5 to 1.9.
   * A real backlog (catching up after an outage, a slow disk's commits) still gets them all.
   */
  private async writeLoop(): Promise<void> {
    while (!this.stopping || this.buffer.length) {
      const smallBacklog = this.bufferedBytes < this.config.batchBytes / 2 && this.buffer.length < this.config.batchMessages;
      const waitForMore = this.busyWriters > 0 && smallBacklog && !this.stopping;
      if (!this.buffer.length || waitForMore) {
        if (this.stopping) return;
        await new Promise<void>((resolve) => this.wakeWriters.push(resolve));
        continue;
      }
      this.busyWriters++;
      try {
        await this.process(this.takeBatch());
      } finally {
        this.busyWriters--;
      }
    }
  }

  private async process(batch: JsMsg[]): Promise<void> {
    try {
      const stopTimer = METRICS.writerWriteSeconds.startTimer();
      const written = await this.writer.writeRuns(await Promise.all(batch.map(decode)));
      const points = written.runs.count;
      stopTimer();
      if (!(await this.feed(batch, written))) return;
      for (const msg of batch) msg.ack();
      METRICS.writerPointsWritten.inc(points);
      this.logger.debug({ message: 'batch committed', messages: batch.length, points, correlation_ids: correlationIds(batch) });
      METRICS.writerBatchMessages.observe(batch.length);
      METRICS.writerBatchPoints.observe(points);
      return;
    } catch (error) {
      const transient = isTransientFailure(error) && !(error instanceof PoisonMessageError);
      METRICS.writerFailures.inc({ kind: transient ? 'database_unavailable' : 'data' });
      if (transient) {
        this.logger.warn({
          message: `database unavailable (${(error as Error).message}); messages will be retried`,
          correlation_ids: correlationIds(batch),
        });
        for (const msg of batch) msg.nak(RETRY_DELAY_MS);
        await delay(RETRY_DELAY_MS);
        return;
      }
      if (batch.length > 1) {
        // Find the bad message(s): the others still go in.
        for (const msg of batch) await this.process([msg]);
        return;
      }
      await this.failOne(batch[0], error as Error);
    }
  }

  /**
   * The committed batch to the alerts feed; false (and the batch handed back for a later retry,
   * which writes nothing twice) when NATS did not take it — never a reason to dead-letter points.
   */
  private async feed(batch: JsMsg[], written: WrittenRuns): Promise<boolean> {
    try {
      await feedAlerts(this.js, batch, written, this.broker.nc.info?.max_payload ?? 1024 * 1024);
      return true;
    } catch (error) {
      METRICS.writerFailures.inc({ kind: 'alert_feed' });
      this.logger.warn({
        message: `alert feed unavailable (${(error as Error).message}); messages will be retried`,
        correlation_ids: correlationIds(batch),
      });
      for (const msg of batch) msg.nak(RETRY_DELAY_MS);
      await delay(RETRY_DELAY_MS);
      return false;
    }
  }

  private async failOne(msg: JsMsg, error: Error): Promise<void> {
    const poison = error instanceof PoisonMessageError;
    if (!poison && msg.info.deliveryCount < this.config.maxAttempts) {
      this.logger.warn({
        message: `message ${msg.seq} failed (attempt ${msg.info.deliveryCount}): ${error.message}`,
        correlation_ids: correlationIds([msg]),
      });
      msg.nak(RETRY_DELAY_MS * msg.info.deliveryCount);
      return;
    }
    const reason = `${poison ? 'rejected' : `failed ${msg.info.deliveryCount} times`}: ${error.message}`;
    try {
      const h = headers();
      h.set(HEADERS.deadLetterReason, reason.slice(0, 1024));
      h.set('Plexus-Original-Subject', msg.subject);
      const encoding = msg.headers?.get(ENCODING_HEADER);
      if (encoding) h.set(ENCODING_HEADER, encoding);
      const correlationId = msg.headers?.get(HEADERS.correlationId);
      if (correlationId) h.set(HEADERS.correlationId, correlationId);
      await this.js.publish(SUBJECTS.telemetry.deadLetter, msg.data, { headers: h });
      msg.ack();
      METRICS.writerDeadLetters.inc();
      this.logger.error({
        message: `message ${msg.seq} dead-lettered to ${SUBJECTS.telemetry.deadLetter}: ${reason}`,
        correlation_ids: correlationIds([msg]),
      });
    } catch (publishError) {
      this.logger.error(`could not dead-letter message ${msg.seq}: ${(publishError as Error).message}`);
      msg.nak(RETRY_DELAY_MS);
    }
  }
}

/** nats.js ends a fetch with this error when two idle heartbeats of its pull did not arrive in time. */
function heartbeatsMissed(error: unknown): boolean {
  return error instanceof Error && error.message === 'heartbeats missed';
}

function correlationIds(batch: JsMsg[]): string[] {
  return batch.map((msg) => msg.headers?.get(HEADERS.correlationId) ?? 'unknown');
}

async function decode(msg: JsMsg): Promise<TelemetryBatch> {
  try {
    return await decodeTelemetryMessage(msg.data, msg.headers?.get(ENCODING_HEADER));
  } catch (error) {
    const reason = (error as Error).message;
    throw new PoisonMessageError(error instanceof TelemetryDecodeError ? reason : `message cannot be decoded: ${reason}`);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
