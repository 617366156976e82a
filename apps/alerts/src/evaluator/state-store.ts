import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { AlertEvent, AlertSeries, AlertView } from '#common';
import type { SeriesState, Transition } from '../evaluation/series-state.js';
import { enqueueWebhooks } from '../webhooks/outbox.js';
import { alertView, type AlertRow } from '../history/alert-row.js';
import { newId } from '../ids.js';
import { RulesRepository, type StoredRule } from '../rules/rules.repository.js';

/** A rule as evaluated (no webhooks: the outbox reads them when it needs them). */
export type EvaluatedRule = StoredRule;

/** The state of one rule on one series, as held in memory by the partition evaluating it. */
export interface StateEntry {
  rule: EvaluatedRule;
  seriesKey: string;
  series: AlertSeries;
  s: SeriesState;
  /** Changed since it was last stored. */
  dirty: boolean;
  /** last_seen_at as last stored (no_data rules store it at most once a second). */
  storedSeenAt: number | null;
}

export interface FeedProgress {
  consumer: string;
  lastSeq: number;
}

export interface StateTransition {
  entry: StateEntry;
  transition: Transition;
}

export interface StoredState {
  rule_id: string;
  series_key: string;
  source_id: string;
  metric: string | null;
  tags: Record<string, unknown> | null;
  state: SeriesState['state'];
  since: number;
  last_point_at: number | null;
  last_seen_at: number | null;
  value: number | null;
  alert_id: string | null;
}

const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8 AS ${column}`;

/** The evaluator's SQL: rules and states in, transitions out (with their alerts and webhook outbox) in one transaction. */
@Injectable()
export class StateStore {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    private readonly ruleStore: RulesRepository,
  ) {}

  /** Enabled rules, of one org or of all. */
  rules(orgId?: string): Promise<EvaluatedRule[]> {
    return this.ruleStore.enabled(orgId);
  }

  /** The last feed sequence applied by a partition's consumer (0: none yet). */
  async progress(consumer: string): Promise<number> {
    const [row] = await this.db.query(`SELECT last_seq::float8 AS last_seq FROM alert_feed_progress WHERE consumer = $1`, [consumer]);
    return row ? Number(row.last_seq) : 0;
  }

  async states(ruleIds: string[]): Promise<StoredState[]> {
    if (!ruleIds.length) return [];
    return this.db.query(
      `SELECT rule_id, series_key, source_id, metric, tags, state, ${ms('since')}, ${ms('last_point_at')}, ${ms('last_seen_at')},
              value, alert_id
         FROM alert_states WHERE rule_id = ANY($1)`,
      [ruleIds],
    );
  }

  /**
   * Stores changed states and the transitions among them in one transaction: a firing opens an
   * alert, a resolution closes it, each enqueues the rule's webhooks unless the rule is silenced.
   * Answers the events to tell browsers (after commit), silenced ones left out.
   */
  async store(entries: StateEntry[], transitions: StateTransition[], now: number, progress?: FeedProgress): Promise<AlertEvent[]> {
    if (!entries.length && !transitions.length && !progress) return [];
    return this.db.transaction(async (tx) => {
      if (progress) {
        await tx.query(
          `INSERT INTO alert_feed_progress (consumer, last_seq) VALUES ($1, $2)
           ON CONFLICT (consumer) DO UPDATE SET last_seq = greatest(alert_feed_progress.last_seq, EXCLUDED.last_seq), updated_at = now()`,
          [progress.consumer, progress.lastSeq],
        );
      }
      const events: AlertEvent[] = [];
      for (const { entry, transition } of transitions) {
        const event = await this.record(tx, entry, transition, now);
        if (event) events.push(event);
      }
      await this.upsert(tx, entries);
      return events;
    });
  }

  private async record(tx: EntityManager, entry: StateEntry, transition: Transition, now: number): Promise<AlertEvent | undefined> {
    const { rule, series } = entry;
    let row: AlertRow | undefined;
    if (transition.to === 'firing') {
      const id = newId('alr');
      [row] = await tx.query(
        `INSERT INTO alerts (id, org_id, rule_id, rule_name, series_key, source_id, metric, tags, severity, state, value, fired_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'firing', $10, to_timestamp($11 / 1000.0)) RETURNING *`,
        [
          id,
          rule.org_id,
          rule.id,
          rule.name,
          entry.seriesKey,
          series.source_id,
          series.metric,
          series.tags,
          rule.severity,
          transition.value,
          transition.at,
        ],
      );
      entry.s.alertId = id;
    } else if (transition.from === 'firing' && entry.s.alertId) {
      const rows: AlertRow[][] = await tx.query(
        `UPDATE alerts SET state = 'resolved', resolved_at = to_timestamp($2 / 1000.0) WHERE id = $1 AND state = 'firing' RETURNING *`,
        [entry.s.alertId, transition.at],
      );
      row = rows[0]?.[0];
      entry.s.alertId = null;
    }
    if (!row) return undefined;
    const alert: AlertView = alertView(row);
    // Read now, not from the rule as loaded: a silence set or lifted a moment ago applies to this transition.
    const [current]: Array<{ silenced: boolean }> = await tx.query(
      `SELECT coalesce(silenced_until > to_timestamp($2 / 1000.0), false) AS silenced FROM alert_rules WHERE id = $1`,
      [rule.id, now],
    );
    if (!current || current.silenced) return undefined;
    const event = alert.state === 'firing' ? 'fired' : 'resolved';
    await enqueueWebhooks(tx, event, alert, { id: rule.id, name: rule.name });
    return { org_id: rule.org_id, event, alert };
  }

  private async upsert(tx: EntityManager, entries: StateEntry[]): Promise<void> {
    if (!entries.length) return;
    const column = <T>(pick: (entry: StateEntry) => T) => entries.map(pick);
    await tx.query(
      `INSERT INTO alert_states (rule_id, series_key, org_id, source_id, metric, tags, state, since, last_point_at, last_seen_at, value, alert_id)
       SELECT u.rule_id, u.series_key, u.org_id, u.source_id, u.metric, u.tags, u.state, to_timestamp(u.since / 1000.0),
              to_timestamp(u.last_point_at / 1000.0), to_timestamp(u.last_seen_at / 1000.0), u.value, u.alert_id
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[], $8::float8[],
                     $9::float8[], $10::float8[], $11::float8[], $12::text[])
              AS u(rule_id, series_key, org_id, source_id, metric, tags, state, since, last_point_at, last_seen_at, value, alert_id)
        WHERE EXISTS (SELECT 1 FROM alert_rules r WHERE r.id = u.rule_id)
       ON CONFLICT (rule_id, series_key) DO UPDATE SET
         state = EXCLUDED.state, since = EXCLUDED.since, last_point_at = EXCLUDED.last_point_at,
         last_seen_at = EXCLUDED.last_seen_at, value = EXCLUDED.value, alert_id = EXCLUDED.alert_id, updated_at = now()`,
      [
        column((e) => e.rule.id),
        column((e) => e.seriesKey),
        column((e) => e.rule.org_id),
        column((e) => e.series.source_id),
        column((e) => e.series.metric),
        column((e) => (e.series.tags ? JSON.stringify(e.series.tags) : null)),
        column((e) => e.s.state),
        column((e) => e.s.since),
        column((e) => e.s.lastPointAt),
        column((e) => e.s.lastSeenAt),
        column((e) => e.s.value),
        column((e) => e.s.alertId),
      ],
    );
    for (const entry of entries) {
      entry.dirty = false;
      entry.storedSeenAt = entry.s.lastSeenAt;
    }
  }
}
