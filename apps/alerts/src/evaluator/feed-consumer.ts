import { Logger } from '@nestjs/common';
import { AckPolicy, type ConsumerMessages, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { CONSUMERS, STREAMS, SUBJECTS } from '#common';

/** Unacked feed messages go to the partition's next owner after this long (a crashed instance's). */
const ACK_WAIT_MS = 10_000;
const BATCH = 1000;
/**
 * How long the first message of a batch waits for others. Ingest feeds one message per stored
 * request part as it commits, so under load they trickle in a few milliseconds apart; each batch
 * costs a wake-up, an ack write and a pass over the touched states. Lingering 25 ms cut the alerts
 * app's CPU per point by about half on the bench's load (docs/performance.md), for 25 ms of latency.
 */
const LINGER_MS = 25;

/**
 * One partition's durable consumer of the alert feed (`alerts-p<i>-of-<n>`, filtered to the
 * partition's subjects, SUBJECTS.alerts.feedPartition): created the first time with deliver-new (rules made later judge later points), then resumed where it was acked.
 * Messages are handed to `handle` in batches of what has arrived; a batch is acked when
 * `handle` resolves and handed back (nak) when it throws.
 */
export class FeedConsumer {
  private readonly logger: Logger;
  private messages?: ConsumerMessages;
  private readonly buffer: JsMsg[] = [];
  private wake?: () => void;
  private stopped = false;
  private loop?: Promise<void>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly partition: number,
    private readonly partitions: number,
    private readonly handle: (batch: JsMsg[]) => Promise<void>,
  ) {
    this.logger = new Logger(`FeedConsumer:${partition}`);
  }

  get name(): string {
    return CONSUMERS.alertsPartition(this.partition, this.partitions);
  }

  async start(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    try {
      await jsm.consumers.info(STREAMS.alertFeed, this.name);
    } catch (error) {
      if (!/not found/i.test(String((error as Error).message))) throw error;
      await jsm.consumers
        .add(STREAMS.alertFeed, {
          durable_name: this.name,
          // Only this partition's share of the feed reaches this consumer (the org's slot is in the subject).
          filter_subject: SUBJECTS.alerts.feedPartition(this.partition, this.partitions),
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.New,
          ack_wait: nanos(ACK_WAIT_MS),
          max_ack_pending: 10_000,
          max_deliver: -1,
        })
        .catch((addError: Error) => {
          if (!/already in use|exists/i.test(addError.message)) throw addError;
        });
    }
    const consumer = await jetstream(this.nc).consumers.get(STREAMS.alertFeed, this.name);
    this.messages = await consumer.consume({ max_messages: BATCH });
    void (async () => {
      for await (const msg of this.messages!) {
        if (this.stopped) {
          msg.nak();
          continue;
        }
        this.buffer.push(msg);
        this.wake?.();
      }
    })().catch((error: Error) => this.logger.warn(`feed consumer ended: ${error.message}`));
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.buffer.length) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      if (this.buffer.length < BATCH) await delay(LINGER_MS);
      const batch = this.buffer.splice(0, BATCH);
      try {
        await this.handle(batch);
        for (const msg of batch) msg.ack();
      } catch (error) {
        this.logger.warn(`feed batch not evaluated (${(error as Error).message}); it is retried`);
        for (const msg of batch) msg.nak(1000);
        await delay(1000);
      }
    }
  }

  /** Stops taking messages, finishes the batch in hand, hands back what waits. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.messages?.close().catch(() => undefined);
    await this.loop;
    for (const msg of this.buffer.splice(0)) msg.nak();
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
