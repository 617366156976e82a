import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';
import {
  type AlertEvent,
  alertPartitionOf,
  BrokerConnection,
  CONSUMERS,
  ensureTelemetryStreams,
  type RulesChangedEvent,
  scrapeGauge,
  SUBJECTS,
  isOrgId,
} from '#common';
import { AlertsConfig } from '../config.js';
import { PartitionLeases, type PartitionOwner } from '../partitions/partition-leases.service.js';
import { WebhookDispatcher } from '../webhooks/webhook-dispatcher.service.js';
import { FeedConsumer } from './feed-consumer.js';
import { PartitionEvaluator } from './partition-evaluator.js';
import { PresenceWatch } from './presence-watch.js';
import { StateStore } from './state-store.js';
import { StoredPoints } from './stored-points.js';

interface Held {
  evaluator: PartitionEvaluator;
  feed: FeedConsumer;
}

/**
 * Evaluates the rules of the partitions this instance holds (PartitionLeases): each partition's
 * feed consumer, the timers of no_data and offline rules, presence, and rule changes.
 */
@Injectable()
export class EvaluatorService implements PartitionOwner, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EvaluatorService.name);
  private readonly held = new Map<number, Held>();
  private presence?: PresenceWatch;
  private tickTimer?: NodeJS.Timeout;
  private ticking = false;
  private rulesChanged?: Subscription;
  /** Orgs whose rules are being reloaded; `again` when they changed once more meanwhile. */
  private readonly reloading = new Map<string, { again: boolean }>();

  constructor(
    private readonly broker: BrokerConnection,
    private readonly config: AlertsConfig,
    private readonly store: StateStore,
    private readonly points: StoredPoints,
    private readonly leases: PartitionLeases,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    scrapeGauge('plexus_alert_partitions_held', 'Org partitions this alerts instance evaluates', [], (gauge) => gauge.set(this.held.size));
    scrapeGauge('plexus_alert_rules_evaluated', 'Enabled rules loaded by this alerts instance', [], (gauge) =>
      gauge.set(this.rulesLoaded()),
    );
    await ensureTelemetryStreams(this.broker.nc, this.config);
    this.presence = new PresenceWatch(this.broker, this.config.streamReplicas, (orgId, sourceId, online, at) => {
      void this.partitionOfOrg(orgId)
        ?.evaluator.presence(orgId, sourceId, online, at)
        .catch((error: Error) => this.logger.warn(`presence of ${sourceId} not evaluated: ${error.message}`));
    });
    await this.presence.start();
    this.rulesChanged = this.broker.nc.subscribe(SUBJECTS.alerts.rulesChanged, {
      callback: (error, msg) => {
        if (error) return;
        let orgId: unknown;
        try {
          orgId = (msg.json() as RulesChangedEvent).org_id;
        } catch {
          return;
        }
        // Not an org id (junk on the subject): nothing to read for it.
        if (isOrgId(orgId)) this.reloadOrg(orgId);
      },
    });
    await this.leases.start(this);
    this.tickTimer = setInterval(() => void this.tick(), this.config.tickMs);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.tickTimer);
    this.rulesChanged?.unsubscribe();
    this.presence?.stop();
  }

  /** Rules loaded in the partitions this instance holds. */
  rulesLoaded(): number {
    let rules = 0;
    for (const { evaluator } of this.held.values()) rules += evaluator.ruleCount;
    return rules;
  }

  /** The partitions this instance evaluates now. */
  get partitions(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  private partitionOfOrg(orgId: string): Held | undefined {
    return this.held.get(alertPartitionOf(orgId, this.config.partitions));
  }

  async acquire(partition: number): Promise<void> {
    const evaluator = new PartitionEvaluator(
      partition,
      CONSUMERS.alertsPartition(partition, this.config.partitions),
      this.store,
      (events) => this.publish(events),
      (orgId) => this.presence?.sourcesOf(orgId),
      (orgId, seriesIds, fromUs, toUs) => this.points.read(orgId, seriesIds, fromUs, toUs),
    );
    const accept = (orgId: string) => alertPartitionOf(orgId, this.config.partitions) === partition;
    await evaluator.load((await this.store.rules()).filter((rule) => accept(rule.org_id)));
    const feed = new FeedConsumer(this.broker.nc, partition, this.config.partitions, async (batch) => {
      try {
        await evaluator.evaluate(batch, accept);
      } catch (error) {
        await evaluator.load((await this.store.rules()).filter((rule) => accept(rule.org_id))).catch(() => undefined);
        throw error;
      }
    });
    this.held.set(partition, { evaluator, feed });
    await feed.start();
  }

  async release(partition: number): Promise<void> {
    const held = this.held.get(partition);
    this.held.delete(partition);
    await held?.feed.stop();
  }

  /**
   * The org's rules changed: one reload at a time per org, and changes told while one runs make one
   * more after it. A burst of changes (1,000 rules made one after another) costs two loads, not one
   * load of every rule per change; and a slow read of older rules can never land after a newer one.
   */
  private reloadOrg(orgId: string): void {
    const running = this.reloading.get(orgId);
    if (running) {
      running.again = true;
      return;
    }
    const state = { again: false };
    this.reloading.set(orgId, state);
    void (async () => {
      try {
        do {
          state.again = false;
          const held = this.partitionOfOrg(orgId);
          if (!held) return;
          try {
            await held.evaluator.reloadOrg(orgId, await this.store.rules(orgId));
          } catch (error) {
            this.logger.warn(`rules of an org not reloaded: ${(error as Error).message}`);
          }
        } while (state.again);
      } finally {
        this.reloading.delete(orgId);
      }
    })();
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const now = Date.now();
      for (const { evaluator } of this.held.values())
        await evaluator.tick(now).catch((error: Error) => this.logger.warn(`tick: ${error.message}`));
    } finally {
      this.ticking = false;
    }
  }

  private publish(events: AlertEvent[]): void {
    for (const event of events) this.broker.nc.publish(SUBJECTS.alerts.events(event.org_id), JSON.stringify(event));
    this.dispatcher.kick();
  }
}
