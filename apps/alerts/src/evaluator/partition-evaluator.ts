import { Logger } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import {
  type AlertEvent,
  decodeFeedSummary,
  decodeTelemetryMessage,
  ENCODING_HEADER,
  FEED_ENCODING,
  FEED_SUMMARY_ENCODING,
  type FeedPart,
  type FeedSeries,
  type FeedSummary,
  fromSubjectToken,
  isBinaryTelemetry,
  pointsOf,
  type ScannedBatch,
  type ScannedSeries,
  type SeriesPoints,
  scanTelemetryBatch,
  SeriesIdentities,
  type SeriesIdentity,
  splitFeedMessage,
  type TelemetryBatch,
} from '#common';
import { compileRule, type CompiledRule, RuleIndex } from '../evaluation/rule-matcher.js';
import {
  newSeriesState,
  type NumberRun,
  numberRun,
  onPoint,
  onPresence,
  onTick,
  quietRun,
  type Transition,
} from '../evaluation/series-state.js';
import type { EvaluatedRule, FeedProgress, StateEntry, StateStore, StateTransition, StoredState } from './state-store.js';
import type { StoredRun } from './stored-points.js';

/** A run of points, column by column. */
type PointColumns = Pick<SeriesPoints, 'timesUs' | 'nums' | 'jsons'>;

/** Reads back the committed points of storage series of an org in [fromUs, toUs], oldest first. */
export type ReadStoredPoints = (orgId: string, seriesIds: readonly number[], fromUs: number, toUs: number) => Promise<StoredRun>;

/** A no_data rule's last-seen time is stored at most this often (a restart forgets at most this much). */
const SEEN_STORE_INTERVAL_MS = 1000;

/** Without a state change, the applied feed sequence is stored at most this often. */
const PROGRESS_STORE_INTERVAL_MS = 5000;

/** A rule watching a series, with the series' state under that rule. */
interface Watcher {
  compiled: CompiledRule;
  entry: StateEntry;
}

interface OrgRules {
  rules: Map<string, CompiledRule>;
  index: RuleIndex;
  /**
   * Series seen → the rules watching them and their states: a series' run of points finds its
   * watchers with one lookup instead of a rule-index lookup, a tag match and two string keys per
   * rule. Built from `rules` and the entries, both replaced together when the org's rules change.
   */
  watchers: Map<string, readonly Watcher[]>;
}

/**
 * The runs of one series (source, metric, tags) in one feed batch, whatever message and session
 * they came in, with the span of their numbers: the batch's quiet check is made once per series,
 * not once per message.
 */
interface SeriesGroup {
  orgId: string;
  org: OrgRules;
  identity: SeriesIdentity;
  /** Points the feed carried (telemetry messages, the feed's earlier encodings). */
  runs: ScannedSeries[];
  run: NumberRun;
  /**
   * Storage series a feed summary described (FEED_SUMMARY_ENCODING): their points stay in
   * PostgreSQL and are read back only when a rule needs them, over the summaries' time range.
   */
  stored?: { seriesIds: number[]; firstUs: number; latestUs: number };
}

/** Series whose watchers an org keeps at most; past it the map starts again (it is only a cache). */
const WATCHER_SERIES_LIMIT = 100_000;

/** Where a rule's state lives: threshold rules per series, no_data per source and metric, offline per source. */
function seriesKey(rule: EvaluatedRule, sourceId: string, metric: string | null, tags: string): string {
  if (rule.condition.type === 'offline') return sourceId;
  if (rule.condition.type === 'no_data') return `${sourceId}\u0001${metric}`;
  return `${sourceId}\u0001${metric}\u0001${tags}`;
}

/**
 * The rules and states of the orgs of one partition, evaluated by this instance alone while it
 * holds the partition's lease. Everything that changes state (a feed batch, a timer tick, a
 * presence change, a reload of rules) runs one at a time, and a feed batch is acked only after
 * the states and transitions it caused are committed together with the batch's last feed
 * sequence: a batch redelivered after a crash is skipped up to that sequence.
 */
export class PartitionEvaluator {
  private readonly logger: Logger;
  private readonly orgs = new Map<string, OrgRules>();
  private readonly entries = new Map<string, StateEntry>();
  private readonly parsedTags = new Map<string, Record<string, unknown> | null>();
  private readonly identities = new SeriesIdentities();
  private serial: Promise<unknown> = Promise.resolve();
  /** The last feed sequence whose effects are stored. */
  private lastSeq = 0;
  private progressStoredAt = 0;

  constructor(
    readonly partition: number,
    private readonly consumer: string,
    private readonly store: StateStore,
    private readonly publish: (events: AlertEvent[]) => void,
    private readonly online: (orgId: string) => ReadonlySet<string> | undefined,
    private readonly readStored: ReadStoredPoints,
  ) {
    this.logger = new Logger(`PartitionEvaluator:${partition}`);
  }

  /** Rules evaluated here now. */
  get ruleCount(): number {
    let count = 0;
    for (const org of this.orgs.values()) count += org.rules.size;
    return count;
  }

  /** Runs `work` after everything queued before it. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.serial.then(work, work);
    this.serial = run.catch(() => undefined);
    return run;
  }

  /** Loads the rules of this partition's orgs (from `rules`, all enabled rules) and their stored states. */
  load(rules: EvaluatedRule[]): Promise<void> {
    return this.exclusive(async () => {
      this.orgs.clear();
      this.entries.clear();
      this.lastSeq = await this.store.progress(this.consumer);
      const byOrg = new Map<string, EvaluatedRule[]>();
      for (const rule of rules) byOrg.set(rule.org_id, [...(byOrg.get(rule.org_id) ?? []), rule]);
      for (const [orgId, orgRules] of byOrg) await this.setOrg(orgId, orgRules);
    });
  }

  /** The org's rules changed: its rules again, states of kept rules kept. */
  reloadOrg(orgId: string, rules: EvaluatedRule[]): Promise<void> {
    return this.exclusive(async () => {
      for (const [key, entry] of this.entries) if (entry.rule.org_id === orgId) this.entries.delete(key);
      this.orgs.delete(orgId);
      if (rules.length) await this.setOrg(orgId, rules);
    });
  }

  private async setOrg(orgId: string, rules: EvaluatedRule[]): Promise<void> {
    const compiled = new Map(rules.map((rule) => [rule.id, compileRule(rule)]));
    this.orgs.set(orgId, { rules: compiled, index: new RuleIndex([...compiled.values()]), watchers: new Map() });
    const now = Date.now();
    for (const row of await this.store.states(rules.map((rule) => rule.id))) {
      const rule = compiled.get(row.rule_id)?.rule as EvaluatedRule | undefined;
      if (rule) this.entries.set(entryKey(row.rule_id, row.series_key), entryOf(rule, row));
    }
    // Rules naming one source start watching it now: no data or offline from the start counts.
    const online = this.online(orgId);
    for (const rule of rules) {
      if (rule.source_id === null) continue;
      if (rule.condition.type === 'no_data') {
        const entry = this.entry(rule, rule.source_id, rule.metric, '', now);
        entry.s.lastSeenAt ??= Math.max(Date.parse(rule.created_at), now - 1);
      } else if (rule.condition.type === 'offline' && online) {
        this.presenceOf(rule, rule.source_id, online.has(rule.source_id), now);
      }
    }
    if (online)
      for (const rule of rules)
        if (rule.condition.type === 'offline' && rule.source_id === null)
          for (const source of online) this.presenceOf(rule, source, true, now);
  }

  private entry(rule: EvaluatedRule, sourceId: string, metric: string | null, tags: string, at: number): StateEntry {
    const series = seriesKey(rule, sourceId, metric, tags);
    const key = entryKey(rule.id, series);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = {
        rule,
        seriesKey: series,
        series: {
          source_id: sourceId,
          metric: rule.condition.type === 'offline' ? null : metric,
          tags: rule.condition.type === 'no_data' || rule.condition.type === 'offline' ? null : this.tagsOf(tags),
        },
        s: newSeriesState(at),
        dirty: true,
        storedSeenAt: null,
      };
      this.entries.set(key, entry);
    }
    return entry;
  }

  private tagsOf(tags: string): Record<string, unknown> | null {
    if (!tags) return null;
    let parsed = this.parsedTags.get(tags);
    if (parsed === undefined) {
      parsed = JSON.parse(tags) as Record<string, unknown>;
      if (this.parsedTags.size > 10_000) this.parsedTags.clear();
      this.parsedTags.set(tags, parsed);
    }
    return parsed;
  }

  /** Evaluates a batch of feed messages and stores what changed; the caller acks them once this resolves. */
  evaluate(messages: JsMsg[], accept: (orgId: string) => boolean): Promise<void> {
    return this.exclusive(async () => {
      const transitions: StateTransition[] = [];
      const touched = new Set<StateEntry>();
      const arrived = Date.now();
      let lastSeq = this.lastSeq;
      const groups = new Map<string, SeriesGroup>();
      for (const msg of messages) {
        // Applied before a crash that came between the commit and the ack: its effects are stored.
        if (msg.seq <= this.lastSeq) continue;
        lastSeq = Math.max(lastSeq, msg.seq);
        // The org from the subject (`<prefix>.alertfeed.<org>`): messages of orgs without rules here are never decoded.
        const orgId = fromSubjectToken(msg.subject.slice(msg.subject.lastIndexOf('.') + 1));
        const org = accept(orgId) ? this.orgs.get(orgId) : undefined;
        if (!org) continue;
        if (msg.headers?.get(ENCODING_HEADER) === FEED_SUMMARY_ENCODING) {
          const summary = readSummary(msg.data);
          if (summary?.orgId !== orgId) continue;
          for (const series of summary.series) groupStored(groups, orgId, org, series);
          continue;
        }
        for (const batch of await feedBatches(msg, this.identities)) {
          if (batch.orgId !== orgId) continue;
          for (const series of batch.series) group(groups, orgId, org, series);
        }
      }
      for (const series of groups.values()) await this.evaluateSeries(series, arrived, transitions, touched);
      if (lastSeq === this.lastSeq) return;
      // Replaying points that changed no state changes none again (the machine is deterministic
      // from the stored state), so without a change the sequence is stored only now and then.
      const changed = transitions.length > 0 || [...touched].some((entry) => entry.dirty);
      if (changed || arrived - this.progressStoredAt >= PROGRESS_STORE_INTERVAL_MS) {
        await this.commit(touched, transitions, arrived, { consumer: this.consumer, lastSeq });
        this.progressStoredAt = arrived;
      }
      this.lastSeq = lastSeq;
    });
  }

  private async evaluateSeries(
    group: SeriesGroup,
    arrived: number,
    transitions: StateTransition[],
    touched: Set<StateEntry>,
  ): Promise<void> {
    const watchers = this.watchersOf(group.org, group.identity, arrived);
    if (!watchers.length) return;
    // Most runs cross no line: one look at their span instead of every point against every rule.
    let runs: PointColumns[] | undefined;
    for (const { compiled, entry } of watchers) {
      if (quietRun(compiled, entry.s, group.run, arrived)) {
        // Nothing to store for a quiet run (a replay is skipped by the feed sequence); an entry
        // still to be stored (new) goes with the batch's commit.
        if (entry.dirty) touched.add(entry);
        continue;
      }
      // Only summarised series (no points in hand): what their summary alone settles.
      const summarised = group.runs.length ? undefined : group.stored;
      if (summarised && compiled.type === 'offline') continue;
      // A threshold rule ignores what is not a number: a summary without numbers changes nothing.
      if (summarised && compiled.type !== 'no_data' && group.run.count === 0) continue;
      // For a no_data rule any value is data: point by point, only a summary's latest point can change its state.
      const points: PointColumns[] =
        summarised && compiled.type === 'no_data'
          ? [{ timesUs: [summarised.latestUs], nums: [NaN], jsons: null }]
          : (runs ??= await this.pointsOfGroup(group));
      for (const { timesUs, nums, jsons } of points)
        for (let i = 0; i < timesUs.length; i++) {
          const num = nums[i];
          const value = Number.isNaN(num) ? jsons?.[i] : num;
          const transition = onPoint(compiled, entry.s, timesUs[i] / 1000, typeof value === 'number' ? value : null, arrived);
          if (transition) {
            transitions.push({ entry, transition });
            entry.dirty = true;
          }
        }
      if (
        compiled.type === 'no_data' &&
        (entry.storedSeenAt === null || (entry.s.lastSeenAt ?? 0) - entry.storedSeenAt >= SEEN_STORE_INTERVAL_MS)
      )
        entry.dirty = true;
      touched.add(entry);
    }
  }

  /** The group's points: those the feed carried, and those of summarised series read back from PostgreSQL. */
  private async pointsOfGroup(group: SeriesGroup) {
    const runs: PointColumns[] = group.runs.map(pointsOf);
    if (group.stored) runs.push(await this.readStored(group.orgId, group.stored.seriesIds, group.stored.firstUs, group.stored.latestUs));
    return runs;
  }

  /** The rules of the org watching this series, with their states (made on first sight). */
  private watchersOf(org: OrgRules, series: SeriesIdentity, arrived: number): readonly Watcher[] {
    const key = `${series.sourceId}\u0001${series.metric}\u0001${series.tags}`;
    let watchers = org.watchers.get(key);
    if (watchers) return watchers;
    const tags = this.tagsOf(series.tags);
    const found: Watcher[] = [];
    for (const compiled of org.index.forSeries(series.sourceId, series.metric)) {
      if (!compiled.watches(series.sourceId, series.metric, tags)) continue;
      found.push({ compiled, entry: this.entry(compiled.rule as EvaluatedRule, series.sourceId, series.metric, series.tags, arrived) });
    }
    watchers = found;
    if (org.watchers.size >= WATCHER_SERIES_LIMIT) org.watchers.clear();
    org.watchers.set(key, watchers);
    return watchers;
  }

  /** Timers: no_data and offline rules whose time has come. */
  tick(now: number): Promise<void> {
    return this.exclusive(async () => {
      const transitions: StateTransition[] = [];
      const touched = new Set<StateEntry>();
      for (const entry of this.entries.values()) {
        const type = entry.rule.condition.type;
        if (type !== 'no_data' && type !== 'offline') continue;
        const compiled = this.orgs.get(entry.rule.org_id)?.rules.get(entry.rule.id);
        if (!compiled) continue;
        // ok → pending → firing may both be due (a long gap): each at its own time.
        for (let transition = onTick(compiled, entry.s, now); transition; transition = onTick(compiled, entry.s, now)) {
          transitions.push({ entry, transition });
          entry.dirty = true;
          touched.add(entry);
        }
      }
      await this.commit(touched, transitions, now);
    });
  }

  /** A source of one of this partition's orgs came online or went offline. */
  presence(orgId: string, sourceId: string, online: boolean, at: number): Promise<void> {
    return this.exclusive(async () => {
      const org = this.orgs.get(orgId);
      if (!org) return;
      const transitions: StateTransition[] = [];
      const touched = new Set<StateEntry>();
      for (const compiled of org.index.offlineRulesFor(sourceId)) {
        const { entry, transition } = this.presenceOf(compiled.rule as EvaluatedRule, sourceId, online, at);
        touched.add(entry);
        if (transition) transitions.push({ entry, transition });
      }
      await this.commit(touched, transitions, at);
    });
  }

  private presenceOf(rule: EvaluatedRule, sourceId: string, online: boolean, at: number): { entry: StateEntry; transition?: Transition } {
    const entry = this.entry(rule, sourceId, null, '', at);
    const compiled = this.orgs.get(rule.org_id)?.rules.get(rule.id) as CompiledRule;
    const offlineSince = entry.s.lastSeenAt;
    const transition = onPresence(compiled, entry.s, online, at);
    // The start of an absence is stored too: a restart must not restart the offline clock.
    if (transition || entry.s.lastSeenAt !== offlineSince) entry.dirty = true;
    return { entry, transition };
  }

  /**
   * Stores what changed: states at their transitions (and no_data rules' last-seen time at most
   * once a second), not every point's — a replayed feed batch is recognised by its sequence
   * (`progress`), so a point's effect never needs storing unless it changed a state.
   */
  private async commit(touched: Set<StateEntry>, transitions: StateTransition[], now: number, progress?: FeedProgress): Promise<void> {
    const dirty = [...touched].filter((entry) => entry.dirty);
    for (const { entry } of transitions) if (!touched.has(entry)) dirty.push(entry);
    if (!dirty.length && !transitions.length && !progress) return;
    try {
      const events = await this.store.store(dirty, transitions, now, progress);
      if (events.length) this.publish(events);
    } catch (error) {
      // Memory is ahead of what is stored: the caller reloads the partition and the batch is retried.
      this.logger.warn(`states not stored (${(error as Error).message}); the partition is read again`);
      throw error;
    }
  }
}

/** A state's key in memory: its rule and its series (as stored, alert_states' primary key). */
function entryKey(ruleId: string, series: string): string {
  return `${ruleId}\u0000${series}`;
}

function entryOf(rule: EvaluatedRule, row: StoredState): StateEntry {
  return {
    rule,
    seriesKey: row.series_key,
    series: { source_id: row.source_id, metric: row.metric, tags: row.tags },
    s: {
      state: row.state,
      since: row.since,
      lastPointAt: row.last_point_at,
      lastSeenAt: row.last_seen_at,
      value: row.value,
      alertId: row.alert_id,
    },
    dirty: false,
    storedSeenAt: row.last_seen_at,
  };
}

/** The group of a series (source, metric, tags) in the batch, made on first sight. */
function groupOf(groups: Map<string, SeriesGroup>, orgId: string, org: OrgRules, identity: SeriesIdentity): SeriesGroup {
  const key = `${orgId}\u0000${identity.sourceId}\u0001${identity.metric}\u0001${identity.tags}`;
  let found = groups.get(key);
  if (!found) {
    found = { orgId, org, identity, runs: [], run: { min: Infinity, max: -Infinity, latestMs: -Infinity, count: 0 } };
    groups.set(key, found);
  }
  return found;
}

/** Widens a group's span of numbers by a run's. */
function widen(run: NumberRun, numbers: number, min: number, max: number, latestMs: number): void {
  if (!numbers) return;
  run.count += numbers;
  run.min = Math.min(run.min, min);
  run.max = Math.max(run.max, max);
  run.latestMs = Math.max(run.latestMs, latestMs);
}

/** Adds a series' run the feed carried to its group of the batch, widening the group's span. */
function group(groups: Map<string, SeriesGroup>, orgId: string, org: OrgRules, series: ScannedSeries): void {
  const found = groupOf(groups, orgId, org, series);
  found.runs.push(series);
  widen(found.run, series.numbers, series.min, series.max, series.latestUs / 1000);
}

/** Adds a summarised storage series (its session's points of the series) to its group of the batch. */
function groupStored(groups: Map<string, SeriesGroup>, orgId: string, org: OrgRules, series: FeedSeries): void {
  const found = groupOf(groups, orgId, org, { sourceId: series.sourceId, metric: series.metric, sessionId: '', tags: series.tags });
  const stored = (found.stored ??= { seriesIds: [], firstUs: series.firstUs, latestUs: series.latestUs });
  if (!stored.seriesIds.includes(series.seriesId)) stored.seriesIds.push(series.seriesId);
  stored.firstUs = Math.min(stored.firstUs, series.firstUs);
  stored.latestUs = Math.max(stored.latestUs, series.latestUs);
  widen(found.run, series.numbers, series.min, series.max, series.latestNumberUs / 1000);
}

/** A feed summary, or undefined when it is not one: ingest wrote it, so anything else was published by someone else. */
function readSummary(data: Uint8Array): FeedSummary | undefined {
  try {
    return decodeFeedSummary(data);
  } catch {
    return undefined;
  }
}

/**
 * The telemetry a feed message carries: one telemetry message, or several of one org
 * (FEED_ENCODING). Ingest stored all of it, so a part that cannot be read was published here by
 * someone else: it is skipped, the rest still evaluated. Binary parts are scanned, not decoded:
 * a series' points are read only if its span may cross a line.
 */
async function feedBatches(msg: JsMsg, identities: SeriesIdentities): Promise<ScannedBatch[]> {
  const encoding = msg.headers?.get(ENCODING_HEADER) || undefined;
  let parts: FeedPart[];
  try {
    parts = encoding === FEED_ENCODING ? splitFeedMessage(msg.data) : [{ data: msg.data, encoding }];
  } catch {
    return [];
  }
  const batches: ScannedBatch[] = [];
  for (const part of parts) {
    try {
      batches.push(
        isBinaryTelemetry(part.data, part.encoding)
          ? scanTelemetryBatch(part.data, identities)
          : legacy(await decodeTelemetryMessage(part.data, part.encoding)),
      );
    } catch {
      // not telemetry: nothing to evaluate
    }
  }
  return batches;
}

/** A telemetry message of an earlier version (JSON), decoded whole, as scanned series. */
function legacy(batch: TelemetryBatch): ScannedBatch {
  return {
    orgId: batch.orgId,
    receivedAtUs: batch.receivedAtUs,
    series: batch.series.map(({ sourceId, metric, sessionId, tags, timesUs, nums, jsons }) => {
      const run = numberRun(timesUs, nums);
      return {
        sourceId,
        metric,
        sessionId,
        tags,
        bytes: Buffer.alloc(0),
        pointsAt: 0,
        count: timesUs.length,
        numbers: run.count,
        min: run.min,
        max: run.max,
        latestUs: run.latestMs * 1000,
        points: { timesUs, nums, jsons },
      };
    }),
  };
}
