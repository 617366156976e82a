import { randomBytes } from 'node:crypto';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { KV } from '@nats-io/kv';
import { BrokerConnection, BUCKETS, openBucket } from '#common';
import { AlertsConfig } from '../config.js';

/** What the owner of the partitions does when it gains or loses one. */
export interface PartitionOwner {
  acquire(partition: number): Promise<void>;
  /** Stops evaluating the partition; resolves once nothing of it is in flight (its work is acked or handed back). */
  release(partition: number): Promise<void>;
}

const INSTANCE_PREFIX = 'i.';
const partitionKey = (partition: number) => `p${partition}`;

/**
 * Splits the org partitions among the running alerts instances, one owner each, through a NATS
 * key-value bucket whose max age is the lease (PLEXUS_ALERTS_LEASE_MS): each instance puts its
 * own key `i.<id>` and renews the partitions it holds (`p<i>`, compare-and-set on the revision)
 * every PLEXUS_ALERTS_RENEW_MS; a partition whose owner stopped renewing expires and is taken by
 * another. Each instance aims at its share (partitions ÷ live instances, rounded up): one holding
 * more gives the extra back, so a second instance gets half soon after it starts.
 */
@Injectable()
export class PartitionLeases implements OnApplicationShutdown {
  private readonly logger = new Logger(PartitionLeases.name);
  readonly instanceId = randomBytes(6).toString('hex');
  private kv?: KV;
  private owner?: PartitionOwner;
  private readonly held = new Map<number, number>();
  private timer?: NodeJS.Timeout;
  private renewing?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly broker: BrokerConnection,
    private readonly config: AlertsConfig,
  ) {}

  /** Starts taking partitions for `owner`; returns once the first round is done. */
  async start(owner: PartitionOwner): Promise<void> {
    this.owner = owner;
    await this.round();
    this.timer = setInterval(() => void this.round(), this.config.renewMs);
  }

  /** The partitions this instance evaluates now. */
  get partitions(): number[] {
    return [...this.held.keys()];
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.renewing;
    for (const partition of [...this.held.keys()]) await this.giveBack(partition);
    await this.kv?.delete(`${INSTANCE_PREFIX}${this.instanceId}`).catch(() => undefined);
  }

  private round(): Promise<void> {
    if (this.renewing || this.stopped) return this.renewing ?? Promise.resolve();
    this.renewing = this.renew()
      .catch((error: Error) => this.logger.warn(`partition leases not renewed: ${error.message}`))
      .finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private async bucket(): Promise<KV> {
    this.kv ??= await openBucket(this.broker.nc, BUCKETS.alertPartitions, {
      history: 1,
      ttl: this.config.leaseMs,
      replicas: this.config.streamReplicas,
    });
    return this.kv;
  }

  private async renew(): Promise<void> {
    const kv = await this.bucket();
    await kv.put(`${INSTANCE_PREFIX}${this.instanceId}`, this.instanceId);
    for (const [partition, revision] of [...this.held]) {
      try {
        this.held.set(partition, await kv.update(partitionKey(partition), this.instanceId, revision));
      } catch (error) {
        // Someone else wrote it: our lease ran out (a long pause) and it was taken. Stop at once.
        this.logger.warn(`partition ${partition} lost (${(error as Error).message}); another instance evaluates it now`);
        this.held.delete(partition);
        await this.owner?.release(partition);
      }
    }
    let instances = 0;
    for await (const key of await kv.keys(`${INSTANCE_PREFIX}>`)) if (key) instances++;
    const share = Math.ceil(this.config.partitions / Math.max(1, instances));
    while (this.held.size > share) await this.giveBack(Math.max(...this.held.keys()));
    for (let partition = 0; partition < this.config.partitions && this.held.size < share && !this.stopped; partition++) {
      if (this.held.has(partition)) continue;
      let revision: number;
      try {
        revision = await kv.create(partitionKey(partition), this.instanceId);
      } catch {
        continue; // held by another instance
      }
      this.held.set(partition, revision);
      this.logger.log(`evaluating partition ${partition} of ${this.config.partitions}`);
      try {
        await this.owner?.acquire(partition);
      } catch (error) {
        this.logger.warn(`partition ${partition} could not be loaded (${(error as Error).message}); giving it back`);
        await this.giveBack(partition);
      }
    }
  }

  private async giveBack(partition: number): Promise<void> {
    const revision = this.held.get(partition);
    this.held.delete(partition);
    await this.owner?.release(partition);
    if (revision !== undefined) await this.kv?.delete(partitionKey(partition), { previousSeq: revision }).catch(() => undefined);
  }
}
