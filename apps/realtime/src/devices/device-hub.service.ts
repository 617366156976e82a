import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { headers, type Msg, type Subscription } from '@nats-io/transport-node';
import {
  BrokerConnection,
  CLOSE_CODES,
  fromSubjectToken,
  HEADERS,
  type KeyRevokedEvent,
  METRICS,
  type OrgDisabledEvent,
  type OnlineSource,
  type SourceRevokedEvent,
  type SourceSeenEvent,
  type SourceStatusFrame,
  SUBJECTS,
  type TakeoverEvent,
} from '#common';
import { RealtimeConfig } from '../config.js';
import { PresenceLease } from '../presence/presence-lease.service.js';
import { presenceNotice, presenceReplies } from '../presence/presence-replies.js';
import { eventJson, guarded } from '../sockets/unexpected.js';
import { type DeviceConnection, onlineSource } from './device-connection.js';
import { LiveTelemetryCoalescer } from './live-telemetry-coalescer.js';

const LAST_SEEN_EVERY_MS = 30_000;
/**
 * Live telemetry is published at most this often per instance: when the previous publish was
 * more recent, the next waits out the rest (≤ 1 ms more latency). Under light load a turn holds
 * one frame or two, and a write to NATS per turn was most of the device instance's CPU.
 */
const MIN_PUBLISH_INTERVAL_MS = 1;
/** nats-server's default max_payload, when the server has not said its own. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * The devices connected to this instance. Commands reach a device through its own NATS
 * subject, answered by whichever instance holds it; what a device says goes out on its
 * org's subject for browsers on every instance. A source connecting anywhere takes over:
 * any other socket of it is closed.
 */
@Injectable()
export class DeviceHub implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(DeviceHub.name);
  private readonly devices = new Map<string, DeviceConnection>();
  private readonly subscriptions: Subscription[] = [];
  private coalescer?: LiveTelemetryCoalescer;
  private flushScheduled = false;
  private lastFlushAt = 0;

  constructor(
    private readonly broker: BrokerConnection,
    private readonly config: RealtimeConfig,
    private readonly lease: PresenceLease,
  ) {}

  onModuleInit(): void {
    const nc = this.broker.nc;
    this.subscriptions.push(
      nc.subscribe(SUBJECTS.realtime.takeoverAll, { callback: guarded('takeover event', (_, msg) => this.onTakeover(msg)) }),
      nc.subscribe(SUBJECTS.realtime.presenceAll, { callback: guarded('presence request', (_, msg) => this.onPresence(msg)) }),
      nc.subscribe(SUBJECTS.sources.revoked, {
        callback: guarded('source revoked event', (_, msg) =>
          this.onSourceRevoked(eventJson<SourceRevokedEvent>(msg) as SourceRevokedEvent),
        ),
      }),
      nc.subscribe(SUBJECTS.keys.revoked, {
        callback: guarded('key revoked event', (_, msg) => this.onKeyRevoked(eventJson<KeyRevokedEvent>(msg) as KeyRevokedEvent)),
      }),
      nc.subscribe(SUBJECTS.orgs.disabled, {
        callback: guarded('org disabled event', (_, msg) => this.onOrgDisabled(eventJson<OrgDisabledEvent>(msg) as OrgDisabledEvent)),
      }),
    );
  }

  onModuleDestroy(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    for (const device of this.devices.values()) device.socket.close(1001, 'server shutting down');
  }

  get count(): number {
    return this.devices.size;
  }

  register(device: DeviceConnection): void {
    const key = keyOf(device.orgId, device.sourceId);
    const existing = this.devices.get(key);
    if (existing) this.replace(existing);
    this.devices.set(key, device);
    const takeover: TakeoverEvent = { instance_id: this.config.instanceId, connection_id: device.socket.id };
    this.broker.nc.publish(SUBJECTS.realtime.takeover(device.orgId, device.sourceId), JSON.stringify(takeover));
    device.subscription = this.broker.nc.subscribe(SUBJECTS.realtime.toDevice(device.orgId, device.sourceId), {
      callback: guarded('command to device', (_, msg) => {
        // Control messages to a device are never dropped (a device that does not read is closed with 4013).
        device.socket.send(msg.string());
        msg.respond('ok');
      }),
    });
    this.lease.hold(device);
    this.publishStatus(device, 'online');
    this.publishSeen(device);
  }

  unregister(device: DeviceConnection): void {
    const key = keyOf(device.orgId, device.sourceId);
    if (this.devices.get(key) === device) this.devices.delete(key);
    device.subscription?.unsubscribe();
    this.lease.release(device);
    if (!device.replaced) {
      this.publishStatus(device, 'offline');
      this.publishSeen(device);
    }
  }

  /**
   * Live telemetry (nothing to record in it, or recorded separately): coalesced with the org's other
   * frames of this event-loop turn into one NATS message, published when the turn ends.
   * `frame` is the browser's frame, starting with its `source_id`; `arrivedAt` when it was read.
   */
  relayTelemetry(device: DeviceConnection, frame: string, arrivedAt: number): void {
    this.coalescer ??= new LiveTelemetryCoalescer(this.config.telemetryMaxAgeMs, this.broker.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD);
    this.coalescer.add(device.orgId, device.sourceId, frame, arrivedAt);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      const wait = this.lastFlushAt + MIN_PUBLISH_INTERVAL_MS - performance.now();
      if (wait <= 0) setImmediate(this.flushLater);
      else setTimeout(this.flushLater, wait);
    }
    if (Date.now() - device.lastSeenPublishedAt > LAST_SEEN_EVERY_MS) this.publishSeen(device);
  }

  private readonly flushLater = guarded('live telemetry publish', () => this.flushTelemetry());

  /** Publishes what this turn coalesced: one message per org (more only past the broker's payload bound). */
  private flushTelemetry(): void {
    if (!this.flushScheduled) return;
    this.flushScheduled = false;
    this.lastFlushAt = performance.now();
    if (!this.coalescer || this.coalescer.empty) return;
    const { batches, oversized } = this.coalescer.drain(Date.now());
    let frames = 0;
    for (const batch of batches) {
      frames += batch.frames;
      this.broker.nc.publish(SUBJECTS.realtime.liveTelemetry(batch.orgId), batch.payload);
    }
    if (frames) METRICS.realtimeMessages.inc({ type: 'telemetry' }, frames);
    if (oversized) this.logger.warn(`${oversized} live telemetry frame(s) too large for one broker message dropped`);
  }

  /** What a device said, for its org's browsers everywhere; `type` travels in a header so no one re-parses. */
  relay(device: DeviceConnection, type: string, data: string): void {
    // Telemetry read before this message goes first, so browsers see a device's messages in order.
    this.flushTelemetry();
    const h = headers();
    h.set(HEADERS.messageType, type);
    METRICS.realtimeMessages.inc({ type });
    this.broker.nc.publish(SUBJECTS.realtime.fromDevice(device.orgId, device.sourceId), data, { headers: h });
    if (Date.now() - device.lastSeenPublishedAt > LAST_SEEN_EVERY_MS) this.publishSeen(device);
  }

  private publishStatus(device: DeviceConnection, status: 'online' | 'offline'): void {
    const frame: SourceStatusFrame = { type: 'source_status', source_id: device.sourceId, status };
    this.relay(device, frame.type, JSON.stringify(frame));
  }

  private publishSeen(device: DeviceConnection): void {
    device.lastSeenPublishedAt = Date.now();
    const event: SourceSeenEvent = {
      org_id: device.orgId,
      source_id: device.sourceId,
      platform: device.platform,
      sensors: device.sensors,
      cameras: device.cameras,
      create: device.keyId !== undefined,
    };
    this.broker.nc.publish(SUBJECTS.sources.seen, JSON.stringify(event));
  }

  private replace(device: DeviceConnection): void {
    device.replaced = true;
    device.socket.sendJson({ type: 'error', message: 'this source connected again elsewhere; closing this connection' });
    device.socket.close(CLOSE_CODES.replaced, 'replaced by a newer connection');
  }

  private onTakeover(msg: Msg): void {
    const [orgToken, sourceToken] = msg.subject.split('.').slice(-2);
    const device = this.devices.get(keyOf(fromSubjectToken(orgToken), fromSubjectToken(sourceToken)));
    if (!device) return;
    const event = eventJson<TakeoverEvent>(msg) as TakeoverEvent;
    if (typeof event.connection_id !== 'string' || event.connection_id === device.socket.id) return;
    this.devices.delete(keyOf(device.orgId, device.sourceId));
    device.subscription?.unsubscribe();
    this.lease.release(device);
    this.replace(device);
  }

  private onPresence(msg: Msg): void {
    const orgId = fromSubjectToken(msg.subject.split('.').pop() as string);
    // Say at once that this instance answers, then the list in pieces under NATS's max_payload
    // (one reply of ~8,000 devices or more would be refused): see onlineSources.
    msg.respond(presenceNotice(this.config.instanceId));
    const sources: OnlineSource[] = [];
    for (const device of this.devices.values()) if (device.orgId === orgId) sources.push(onlineSource(device));
    for (const reply of presenceReplies(sources, this.config.instanceId)) msg.respond(reply);
  }

  private onSourceRevoked(event: SourceRevokedEvent): void {
    if (typeof event?.org_id !== 'string' || typeof event.source_id !== 'string') return;
    const device = this.devices.get(keyOf(event.org_id, event.source_id));
    if (!device) return;
    this.logger.log(`closing ${event.source_id}: its device token was revoked`);
    // Gone from the fleet: its closing must not report it seen (and so bring it back).
    device.replaced = true;
    this.devices.delete(keyOf(event.org_id, event.source_id));
    device.subscription?.unsubscribe();
    this.lease.release(device);
    this.publishStatus(device, 'offline');
    device.socket.error('FORBIDDEN', 'device token revoked');
    device.socket.close(CLOSE_CODES.revoked, 'device token revoked');
  }

  private onKeyRevoked(event: KeyRevokedEvent): void {
    if (typeof event?.key_id !== 'string') return;
    for (const device of this.devices.values()) {
      if (device.keyId !== event.key_id) continue;
      device.socket.error('FORBIDDEN', 'API key revoked');
      device.socket.close(CLOSE_CODES.revoked, 'API key revoked');
    }
  }

  /** Every device of a disabled org goes; its tokens and keys are refused from now on. */
  private onOrgDisabled(event: OrgDisabledEvent): void {
    if (typeof event?.org_id !== 'string') return;
    for (const device of [...this.devices.values()]) {
      if (device.orgId !== event.org_id) continue;
      device.replaced = true;
      this.devices.delete(keyOf(device.orgId, device.sourceId));
      device.subscription?.unsubscribe();
      this.lease.release(device);
      device.socket.error('FORBIDDEN', 'this org is disabled');
      device.socket.close(CLOSE_CODES.revoked, 'org disabled');
    }
  }
}

function keyOf(orgId: string, sourceId: string): string {
  return `${orgId}\u0000${sourceId}`;
}
