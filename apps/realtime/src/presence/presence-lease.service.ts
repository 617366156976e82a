import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { StorageType } from '@nats-io/jetstream';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import { headers, type QueuedIterator } from '@nats-io/transport-node';
import { BrokerConnection, BUCKETS, openBucket, HEADERS, type SourceStatusFrame, SUBJECTS } from '#common';
import { BrowserHub } from '../browsers/browser-hub.service.js';
import { RealtimeConfig } from '../config.js';
import type { DeviceConnection } from '../devices/device-connection.js';
import { guarded, reportUnexpected } from '../sockets/unexpected.js';
import { type DeviceLease, deviceKey, isInstanceId, parseDeviceKey, parseDeviceLease } from './presence-keys.js';

/** A device held here and the revision of its lease (0 until the write is stored). */
interface Held {
  device: DeviceConnection;
  revision: number;
  writing: boolean;
}

/** A device lease seen on the bucket, held by any instance. */
interface SeenLease {
  orgId: string;
  sourceId: string;
  instanceId: string;
  revision: number;
}

/** Warnings about a NATS that is away are logged at most this often. */
const WARN_EVERY_MS = 10_000;

/**
 * The presence lease: a device held by an instance that died (kill -9, a lost machine) goes
 * offline for every browser within PLEXUS_PRESENCE_LEASE_MS, unless it reconnected elsewhere.
 *
 * Two buckets: every instance puts its own key in the instances bucket every
 * PLEXUS_PRESENCE_RENEW_MS (max age: the lease), and writes one key per device it holds in the
 * devices bucket (on connect; deleted on disconnect). nats-server 2.9 (what Debian ships) removes
 * expired messages silently — a delete marker for an expired key needs per-message TTLs, 2.11 —
 * so every instance watches both buckets and judges for itself: an instance whose key was not
 * renewed within the lease, as seen here, is dead, and each instance tells its own browsers that
 * the dead one's devices are offline (so each browser hears it once), then purges those leases
 * (conditionally: only if no one wrote them since); an instance that sees such a purge before
 * judging for itself tells its browsers then. An instance that has not seen its own
 * renewals lately is cut off and judges no one. One renewal per instance, not per device, keeps
 * the cost flat in the number of devices.
 */
@Injectable()
export class PresenceLease implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PresenceLease.name);
  private instances?: KV;
  private devices?: KV;
  private readonly held = new Map<string, Held>();
  private readonly leases = new Map<string, SeenLease>();
  /** When each instance's renewal was last seen here (this process's clock). */
  private readonly renewals = new Map<string, number>();
  private ownRenewalSeenAt = 0;
  private readonly watchers: Array<QueuedIterator<KvWatchEntry>> = [];
  private renewTimer?: NodeJS.Timeout;
  private sweepTimer?: NodeJS.Timeout;
  private renewing = false;
  private watchedSince = 0;
  private stopped = false;
  private lastWarning = 0;

  constructor(
    private readonly broker: BrokerConnection,
    private readonly config: RealtimeConfig,
    private readonly browsers: BrowserHub,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.openBuckets();
    await this.renew();
    await this.watch(BUCKETS.presenceInstances, (entry) => this.onInstanceEntry(entry));
    await this.watch(
      BUCKETS.presenceDevices,
      (entry) => this.onDeviceEntry(entry),
      () => this.leases.clear(),
    );
    this.renewTimer = setInterval(
      guarded('presence renewal', () => this.renew()),
      this.config.presenceRenewMs,
    );
    this.sweepTimer = setInterval(
      guarded('presence sweep', () => this.sweep()),
      Math.min(1000, this.config.presenceRenewMs),
    );
    void this.followReconnects();
  }

  /**
   * Back on NATS after losing it (a NATS restart): every other instance lost it at the same time
   * and comes back in its own time (its reconnect, the memory buckets made again), so each gets a
   * whole lease from now before it can be judged dead — one slower than this one is not dead.
   */
  private async followReconnects(): Promise<void> {
    try {
      for await (const status of this.broker.nc.status()) if (status.type === 'reconnect') this.startAfresh();
    } catch {
      // the connection closed: nothing more to follow
    }
  }

  /** Every instance known gets a whole lease from now. */
  private startAfresh(): void {
    const now = Date.now();
    for (const id of this.renewals.keys()) this.renewals.set(id, now);
  }

  /**
   * Stops renewing and takes this instance's key out, so the others judge it gone at once; its
   * device leases are left for them to expire (this process may not get to send anything more).
   */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.renewTimer);
    clearInterval(this.sweepTimer);
    for (const watcher of this.watchers) watcher.stop();
    await this.instances?.delete(this.config.instanceId).catch(() => undefined);
  }

  /** A device authenticated here: its lease says this instance holds it. */
  hold(device: DeviceConnection): void {
    const key = deviceKey(device.orgId, device.sourceId);
    const held: Held = { device, revision: 0, writing: false };
    this.held.set(key, held);
    this.write(key, held);
  }

  /**
   * The device left this instance (closed, replaced, revoked): its lease goes, only if it is still
   * the one written here — a newer one from the instance it moved to stays.
   */
  release(device: DeviceConnection): void {
    const key = deviceKey(device.orgId, device.sourceId);
    const held = this.held.get(key);
    if (held?.device !== device) return;
    this.held.delete(key);
    // Still being written: the write takes it out when it lands.
    if (held.revision) this.devices?.delete(key, { previousSeq: held.revision }).catch(() => undefined);
  }

  private write(key: string, held: Held): void {
    if (!this.devices || held.writing) return;
    held.writing = true;
    const lease: DeviceLease = { instance_id: this.config.instanceId, connection_id: held.device.socket.id };
    this.devices.put(key, JSON.stringify(lease)).then(
      (revision) => {
        held.writing = false;
        if (this.held.get(key) === held) held.revision = revision;
        else this.devices?.delete(key, { previousSeq: revision }).catch(() => undefined);
      },
      (error: Error) => {
        held.writing = false;
        this.warn(`could not record the presence of ${JSON.stringify(held.device.sourceId)}: ${error.message}`);
      },
    );
  }

  /** Memory storage: a lease is worth nothing after a NATS restart (every socket reconnects anyway). */
  private async openBuckets(): Promise<void> {
    const nc = this.broker.nc;
    const options = { history: 1, storage: StorageType.Memory, replicas: this.config.streamReplicas };
    this.instances = await openBucket(nc, BUCKETS.presenceInstances, { ...options, ttl: this.config.presenceLeaseMs });
    this.devices = await openBucket(nc, BUCKETS.presenceDevices, options);
  }

  private async renew(): Promise<void> {
    if (this.renewing || !this.instances) return;
    this.renewing = true;
    try {
      await this.instances.put(this.config.instanceId, JSON.stringify({ renewed_at: new Date().toISOString() }));
      this.checkWatches();
    } catch (error) {
      this.warn(`could not renew the presence lease: ${(error as Error).message}`);
      // A restarted NATS has lost the memory buckets: made again, and every lease held here written again.
      await this.openBuckets().then(
        () => this.held.forEach((held) => (held.revision = 0)),
        () => undefined,
      );
    } finally {
      this.renewing = false;
    }
    // Leases that could not be written (NATS was away) are written now.
    for (const [key, held] of this.held) if (!held.revision) this.write(key, held);
  }

  /**
   * Renewals are stored but not seen coming back: the watches are stuck (after a NATS restart the
   * watch of a bucket made again waits for sequence numbers the new stream has not reached). They
   * are stopped, and so started again.
   */
  private checkWatches(): void {
    const now = Date.now();
    const lease = this.config.presenceLeaseMs;
    if (now - this.ownRenewalSeenAt <= lease || now - this.watchedSince <= lease || !this.watchers.length) return;
    this.warn('this instance does not see its own renewals: watching the presence buckets again');
    this.watchedSince = now;
    for (const watcher of [...this.watchers]) watcher.stop();
  }

  /** Watches a bucket for as long as this instance runs; a watch that ends (the bucket was lost) is started again. */
  private async watch(bucket: string, onEntry: (entry: KvWatchEntry) => void, onRestart?: () => void): Promise<void> {
    const kv = bucket === BUCKETS.presenceInstances ? this.instances : this.devices;
    if (!kv) throw new Error(`bucket ${bucket} is not open`);
    const watcher = await kv.watch();
    this.watchers.push(watcher);
    this.watchedSince = Date.now();
    void (async () => {
      for await (const entry of watcher) {
        try {
          onEntry(entry);
        } catch (error) {
          reportUnexpected('presence watch', error);
        }
      }
    })()
      .catch((error: unknown) => this.warn(`the watch of ${bucket} failed: ${(error as Error).message}`))
      .finally(() => {
        this.watchers.splice(this.watchers.indexOf(watcher), 1);
        if (this.stopped) return;
        this.warn(`the watch of ${bucket} ended; watching again`);
        const again = () => {
          // What was seen is forgotten first: the new watch starts with every key's last value.
          onRestart?.();
          this.watch(bucket, onEntry, onRestart).catch(() => setTimeout(again, this.config.presenceRenewMs).unref());
        };
        setTimeout(again, this.config.presenceRenewMs).unref();
      });
  }

  private onInstanceEntry(entry: KvWatchEntry): void {
    const instanceId = entry.key;
    if (!isInstanceId(instanceId)) return;
    const now = Date.now();
    if (entry.operation !== 'PUT') {
      // Gone (a clean stop): its leases expire at the next sweep. This instance's own key comes back at its next renewal.
      if (instanceId !== this.config.instanceId) this.renewals.set(instanceId, Number.NEGATIVE_INFINITY);
      return;
    }
    if (instanceId === this.config.instanceId) {
      // Blind until now (just started, or cut off from NATS): what was seen meanwhile says nothing, so everyone starts afresh.
      if (now - this.ownRenewalSeenAt > this.config.presenceLeaseMs) this.startAfresh();
      this.ownRenewalSeenAt = now;
    }
    this.renewals.set(instanceId, now);
  }

  private onDeviceEntry(entry: KvWatchEntry): void {
    const names = parseDeviceKey(entry.key);
    if (!names) return;
    const lease = entry.operation === 'PUT' ? parseDeviceLease(entry.value) : undefined;
    const known = this.leases.get(entry.key);
    if (entry.operation === 'PURGE' && known && known.instanceId !== this.config.instanceId) {
      // Another instance judged the holder dead first (a purge, where a holder that lets go deletes):
      // this instance's browsers hear it from here, as they would had this instance judged it.
      this.browsers.deliverStatus(known.orgId, known.sourceId, 'offline');
    }
    if (lease) {
      this.leases.set(entry.key, { ...names, instanceId: lease.instance_id, revision: entry.revision });
      if (!this.renewals.has(lease.instance_id)) this.renewals.set(lease.instance_id, Date.now());
    } else {
      this.leases.delete(entry.key);
    }
    // A valid lease (this instance's own write, or the instance the device moved to) needs nothing more.
    const held = this.held.get(entry.key);
    if (lease || !held?.revision || held.revision >= entry.revision) return;
    // This instance's lease of a device it still holds was deleted or overwritten with garbage:
    // it lapsed (cut off from NATS longer than the lease, the others declared it dead and told
    // their browsers) or someone wrote the bucket. Written again, and the device said online again.
    held.revision = 0;
    this.write(entry.key, held);
    if (entry.operation !== 'PUT') this.publishStatus(held.device, 'online');
  }

  /** Leases of instances not renewed within the lease: their devices are offline, for this instance's browsers. */
  private sweep(): void {
    const now = Date.now();
    if (now - this.ownRenewalSeenAt > this.config.presenceLeaseMs) return;
    const holding = new Set<string>();
    for (const [key, lease] of this.leases) {
      if (lease.instanceId === this.config.instanceId) continue;
      let seenAt = this.renewals.get(lease.instanceId);
      // Not heard of yet: it gets a whole lease from now.
      if (seenAt === undefined) this.renewals.set(lease.instanceId, (seenAt = now));
      if (now - seenAt <= this.config.presenceLeaseMs) {
        holding.add(lease.instanceId);
        continue;
      }
      this.leases.delete(key);
      this.logger.log(`${JSON.stringify(lease.sourceId)} is offline: instance ${lease.instanceId} has not renewed its lease`);
      this.browsers.deliverStatus(lease.orgId, lease.sourceId, 'offline');
      // A purge says "judged dead" to the other instances (a holder letting go deletes); only the first judge's lands.
      this.devices?.purge(key, { previousSeq: lease.revision }).catch(() => undefined);
    }
    for (const [instanceId, seenAt] of this.renewals) {
      if (!holding.has(instanceId) && instanceId !== this.config.instanceId && now - seenAt > 10 * this.config.presenceLeaseMs) {
        this.renewals.delete(instanceId);
      }
    }
  }

  private publishStatus(device: DeviceConnection, status: SourceStatusFrame['status']): void {
    const frame: SourceStatusFrame = { type: 'source_status', source_id: device.sourceId, status };
    const h = headers();
    h.set(HEADERS.messageType, frame.type);
    this.broker.nc.publish(SUBJECTS.realtime.fromDevice(device.orgId, device.sourceId), JSON.stringify(frame), { headers: h });
  }

  private warn(message: string): void {
    if (Date.now() - this.lastWarning < WARN_EVERY_MS) return;
    this.lastWarning = Date.now();
    this.logger.warn(message);
  }
}
