import { Logger } from '@nestjs/common';
import { StorageType } from '@nats-io/jetstream';
import { type KV, type KvWatchEntry, KvWatchInclude } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/transport-node';
import { BUCKETS, openBucket, parseDeviceKey, type BrokerConnection } from '#common';

/** How often the watch is started over from a full snapshot (a watch can go stale across a NATS restart). */
const RESNAPSHOT_MS = 30_000;

/**
 * Which sources are online, from realtime's devices bucket (docs/realtime.md "After a crash"): a
 * key is a connected device, its delete or purge (a disconnect, or the lease of a dead instance
 * judged expired) is offline. Keys realtime never writes are ignored. Changes go to `onChange`.
 */
export class PresenceWatch {
  private readonly logger = new Logger(PresenceWatch.name);
  private readonly online = new Map<string, Set<string>>();
  private watcher?: QueuedIterator<KvWatchEntry>;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly broker: BrokerConnection,
    private readonly replicas: number,
    private readonly onChange: (orgId: string, sourceId: string, online: boolean, at: number) => void,
  ) {}

  sourcesOf(orgId: string): ReadonlySet<string> {
    return this.online.get(orgId) ?? new Set();
  }

  async start(): Promise<void> {
    await this.watch();
    this.timer = setInterval(
      () => void this.watch().catch((error: Error) => this.logger.warn(`presence watch: ${error.message}`)),
      RESNAPSHOT_MS,
    );
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.watcher?.stop();
  }

  /** A full snapshot, then changes; what the snapshot lacks that was online went offline meanwhile. */
  private async watch(): Promise<void> {
    if (this.stopped) return;
    const kv: KV = await openBucket(this.broker.nc, BUCKETS.presenceDevices, {
      history: 1,
      storage: StorageType.Memory,
      replicas: this.replicas,
    });
    // Changes from now on (held until the snapshot is taken), then the snapshot of who is connected.
    const watcher = await kv.watch({ include: KvWatchInclude.UpdatesOnly });
    const seen = new Map<string, Set<string>>();
    for await (const key of await kv.keys()) {
      const device = parseDeviceKey(key);
      if (device) (seen.get(device.orgId) ?? seen.set(device.orgId, new Set()).get(device.orgId)!).add(device.sourceId);
    }
    this.watcher?.stop();
    this.watcher = watcher;
    for (const [orgId, sources] of this.online)
      for (const sourceId of [...sources]) if (!seen.get(orgId)?.has(sourceId)) this.set(orgId, sourceId, false);
    for (const [orgId, sources] of seen) for (const sourceId of sources) this.set(orgId, sourceId, true);
    void (async () => {
      for await (const entry of watcher) {
        const device = parseDeviceKey(entry.key);
        if (device) this.set(device.orgId, device.sourceId, entry.operation === 'PUT');
      }
    })().catch((error: Error) => this.logger.warn(`presence watch ended: ${error.message}`));
  }

  private set(orgId: string, sourceId: string, isOnline: boolean): void {
    const sources = this.online.get(orgId) ?? new Set<string>();
    if (sources.has(sourceId) === isOnline) return;
    if (isOnline) sources.add(sourceId);
    else sources.delete(sourceId);
    if (sources.size) this.online.set(orgId, sources);
    else this.online.delete(orgId);
    this.onChange(orgId, sourceId, isOnline, Date.now());
  }
}
