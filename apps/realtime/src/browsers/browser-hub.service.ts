import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Msg, Subscription } from '@nats-io/transport-node';
import {
  type AlertEvent,
  type AlertFrame,
  BrokerConnection,
  CLOSE_CODES,
  decodeLiveTelemetry,
  fromSubjectToken,
  HEADERS,
  type KeyRevokedEvent,
  type OrgDisabledEvent,
  type SourceStatusFrame,
  SUBJECTS,
} from '#common';
import { RealtimeConfig } from '../config.js';
import { eventJson, guarded } from '../sockets/unexpected.js';
import type { BrowserConnection } from './browser-connection.js';

const ALERT_EVENTS = new Set<unknown>(['fired', 'resolved', 'acknowledged']);
/** An alert event is a few hundred bytes; one larger than this is not the alerts app's. */
const MAX_ALERT_EVENT_BYTES = 64 * 1024;
/** Malformed live telemetry batches are logged at most this often (anyone allowed to publish could flood them). */
const REFUSAL_LOG_EVERY_MS = 10_000;

interface OrgBrowsers {
  browsers: Set<BrowserConnection>;
  subscriptions: Subscription[];
}

/**
 * The browsers connected to this instance, by org. The instance listens to an org's device
 * subject only while it has a browser of that org, and forwards each message's bytes as they
 * came: live telemetry may be dropped for a slow browser, nothing else is.
 */
/** `bytes` in a buffer of exactly its size (not a slice of a shared pool or of a larger message). */
function ownCopy(bytes: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}

@Injectable()
export class BrowserHub implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(BrowserHub.name);
  private readonly orgs = new Map<string, OrgBrowsers>();
  private lastRefusalLogAt = 0;
  /** Malformed live telemetry batches ignored, for tests and `/stats`. */
  refusedBatches = 0;
  private revocations?: Subscription;
  private disabledOrgs?: Subscription;
  private alerts?: Subscription;

  constructor(
    private readonly broker: BrokerConnection,
    private readonly config: RealtimeConfig,
  ) {}

  onModuleInit(): void {
    this.revocations = this.broker.nc.subscribe(SUBJECTS.keys.revoked, {
      callback: guarded('key revoked event', (_, msg) => this.onKeyRevoked(eventJson<KeyRevokedEvent>(msg) as KeyRevokedEvent)),
    });
    this.disabledOrgs = this.broker.nc.subscribe(SUBJECTS.orgs.disabled, {
      callback: guarded('org disabled event', (_, msg) => this.onOrgDisabled(eventJson<OrgDisabledEvent>(msg) as OrgDisabledEvent)),
    });
    this.alerts = this.broker.nc.subscribe(SUBJECTS.alerts.eventsAll, {
      callback: guarded('alert event', (_, msg) => this.onAlert(msg)),
    });
  }

  onModuleDestroy(): void {
    this.revocations?.unsubscribe();
    this.disabledOrgs?.unsubscribe();
    this.alerts?.unsubscribe();
    for (const org of this.orgs.values()) {
      for (const subscription of org.subscriptions) subscription.unsubscribe();
      for (const browser of org.browsers) browser.socket.close(1001, 'server shutting down');
    }
  }

  get count(): number {
    let count = 0;
    for (const org of this.orgs.values()) count += org.browsers.size;
    return count;
  }

  add(browser: BrowserConnection): void {
    const orgId = browser.principal.org_id;
    let org = this.orgs.get(orgId);
    if (!org) {
      const browsers = new Set<BrowserConnection>();
      const subscriptions = [
        this.broker.nc.subscribe(SUBJECTS.realtime.fromDevicesOfOrg(orgId), {
          callback: guarded('device message to browsers', (_, msg) => this.dispatch(browsers, msg)),
        }),
        this.broker.nc.subscribe(SUBJECTS.realtime.liveTelemetry(orgId), {
          callback: guarded('live telemetry to browsers', (_, msg) => this.dispatchLive(browsers, msg)),
        }),
      ];
      org = { browsers, subscriptions };
      this.orgs.set(orgId, org);
    }
    org.browsers.add(browser);
  }

  remove(browser: BrowserConnection): void {
    const org = this.orgs.get(browser.principal.org_id);
    if (!org) return;
    org.browsers.delete(browser);
    if (!org.browsers.size) {
      for (const subscription of org.subscriptions) subscription.unsubscribe();
      this.orgs.delete(browser.principal.org_id);
    }
  }

  /**
   * A status this instance found out itself (the presence lease of a dead instance ran out), for
   * its own browsers of the org: every instance does the same for its own, so each browser hears it once.
   */
  deliverStatus(orgId: string, sourceId: string, status: SourceStatusFrame['status']): void {
    const org = this.orgs.get(orgId);
    if (!org) return;
    const frame: SourceStatusFrame = { type: 'source_status', source_id: sourceId, status };
    const data = JSON.stringify(frame);
    for (const browser of org.browsers) {
      if (browser.watching === null || browser.watching.has(sourceId)) browser.socket.send(data);
    }
  }

  private dispatch(browsers: Set<BrowserConnection>, msg: Msg): void {
    const sourceId = fromSubjectToken(msg.subject.slice(msg.subject.lastIndexOf('.') + 1));
    const type = msg.headers?.get(HEADERS.messageType);
    const droppable = type === 'telemetry';
    // Shell output is for admins only (the browser that issued the command among them).
    const adminsOnly = type === 'output';
    const data = msg.string();
    for (const browser of browsers) {
      if (adminsOnly && !browser.admin) continue;
      if (browser.watching === null || browser.watching.has(sourceId)) browser.socket.send(data, droppable);
    }
  }

  /**
   * An org's live telemetry of one turn of one instance (`LiveTelemetryBatch`): each frame's bytes,
   * never parsed, to every browser watching its source, corked so a browser's frames leave in one
   * write. Frames older than the ceiling are dropped and, with those the sending instance dropped,
   * reported to each browser. The subject names the org: a batch reaches only that org's browsers,
   * whatever it says; a malformed one is ignored whole.
   */
  private dispatchLive(browsers: Set<BrowserConnection>, msg: Msg): void {
    const batch = decodeLiveTelemetry(msg.data);
    if (!batch.ok) {
      this.refuse(msg.subject, batch.problem);
      return;
    }
    const oldestAllowed = Date.now() - this.config.telemetryMaxAgeMs;
    // One copy of a frame for all its browsers, of its own size: a view into the batch would keep
    // the whole batch alive for as long as a slow browser holds the frame, past the queue's byte bound.
    const copies: Array<Buffer | undefined> = new Array<Buffer | undefined>(batch.records.length);
    for (const browser of browsers) {
      let late = 0;
      browser.socket.cork();
      try {
        for (let i = 0; i < batch.records.length; i++) {
          const record = batch.records[i];
          if (browser.watching !== null && !browser.watching.has(record.sourceId)) continue;
          if (record.arrivedAt < oldestAllowed) late++;
          else browser.socket.send((copies[i] ??= ownCopy(record.frame)), true, record.arrivedAt);
        }
      } finally {
        browser.socket.uncork();
      }
      browser.socket.droppedLate(batch.dropped, 'publish');
      browser.socket.droppedLate(late, 'fanout');
    }
  }

  private refuse(subject: string, problem: string): void {
    this.refusedBatches++;
    const now = Date.now();
    if (now - this.lastRefusalLogAt < REFUSAL_LOG_EVERY_MS) return;
    this.lastRefusalLogAt = now;
    this.logger.warn(`ignored a malformed live telemetry batch on ${subject.slice(0, 300)}: ${problem}`);
  }

  /**
   * An alert fired, resolved or was acknowledged (the alerts app): an `alert` frame to every
   * browser of the org, whatever it watches. Anything but such an event of this subject's org is
   * ignored (anyone allowed to publish here could send it).
   */
  private onAlert(msg: Msg): void {
    const orgId = fromSubjectToken(msg.subject.slice(msg.subject.lastIndexOf('.') + 1));
    const org = this.orgs.get(orgId);
    if (!org || msg.data.length > MAX_ALERT_EVENT_BYTES) return;
    const { event: kind, alert } = eventJson<AlertEvent>(msg);
    if (!kind || !ALERT_EVENTS.has(kind) || typeof alert !== 'object' || alert === null || alert.org_id !== orgId) return;
    const frame: AlertFrame = { type: 'alert', event: kind, alert };
    const data = JSON.stringify(frame);
    for (const browser of org.browsers) browser.socket.send(data);
  }

  private onKeyRevoked(event: KeyRevokedEvent): void {
    if (typeof event?.org_id !== 'string') return;
    const org = this.orgs.get(event.org_id);
    for (const browser of org?.browsers ?? []) {
      if (browser.principal.key_id !== event.key_id) continue;
      browser.socket.error('FORBIDDEN', 'API key revoked');
      browser.socket.close(CLOSE_CODES.revoked, 'API key revoked');
    }
  }

  /** Every browser of a disabled org goes; its keys are refused from now on. */
  private onOrgDisabled(event: OrgDisabledEvent): void {
    if (typeof event?.org_id !== 'string') return;
    for (const browser of [...(this.orgs.get(event.org_id)?.browsers ?? [])]) {
      browser.socket.error('FORBIDDEN', 'this org is disabled');
      browser.socket.close(CLOSE_CODES.revoked, 'org disabled');
    }
  }
}
