import type { AlertCondition, AlertConditionType, RuleView, TagMatch } from '#common';

/** What the evaluation needs of a rule; a stored rule (RuleView) or one being dry-run. */
export type RuleShape = Pick<RuleView, 'id' | 'source_id' | 'tags' | 'metric' | 'condition' | 'for_seconds'>;

/** A rule made ready to be tested against every point: its condition turned into plain numbers and one test. */
export interface CompiledRule {
  readonly id: string;
  readonly rule: RuleShape;
  readonly type: AlertConditionType;
  /** null: every source of the org. */
  readonly sourceId: string | null;
  /** null only for offline rules. */
  readonly metric: string | null;
  /** How long the condition must hold before firing, in ms. */
  readonly forMs: number;
  /** no_data and offline: the silence (or absence) that makes the condition true, in ms; 0 otherwise. */
  readonly windowMs: number;
  /** Does the rule watch this series? Offline rules look at the source only. */
  watches(sourceId: string, metric: string | null, tags: Record<string, unknown> | null): boolean;
  /** Threshold conditions: does this number meet it? Always false for no_data and offline. */
  meets(value: number): boolean;
  /** Could a number between `min` and `max` (inclusive) meet the condition? False means none of them does. */
  mayMeetWithin(min: number, max: number): boolean;
  /** Does every number between `min` and `max` (inclusive) meet the condition? */
  meetsAllWithin(min: number, max: number): boolean;
}

const NEVER = (): boolean => false;

function thresholdTest(condition: AlertCondition): (value: number) => boolean {
  switch (condition.type) {
    case 'above': {
      const threshold = condition.threshold;
      return (value) => value > threshold;
    }
    case 'below': {
      const threshold = condition.threshold;
      return (value) => value < threshold;
    }
    case 'outside': {
      const { low, high } = condition;
      return (value) => value < low || value > high;
    }
    case 'inside': {
      const { low, high } = condition;
      return (value) => low <= value && value <= high;
    }
    default:
      return NEVER;
  }
}

/**
 * The rule's tags as a list of [key, value] pairs, each of which a series' tags must hold with
 * exactly that value (own properties only: a tag named "constructor" is not Object's).
 */
function tagTest(tags: TagMatch | null): ((tags: Record<string, unknown> | null) => boolean) | undefined {
  const wanted = tags ? Object.entries(tags) : [];
  if (wanted.length === 0) return undefined;
  return (seriesTags) => {
    if (!seriesTags) return false;
    for (const [key, value] of wanted) {
      if (!Object.hasOwn(seriesTags, key) || seriesTags[key] !== value) return false;
    }
    return true;
  };
}

export function compileRule(rule: RuleShape): CompiledRule {
  const type = rule.condition.type;
  const offline = type === 'offline';
  const sourceId = rule.source_id ?? null;
  const metric = offline ? null : (rule.metric ?? null);
  const tagsMatch = offline ? undefined : tagTest(rule.tags ?? null);
  const windowMs = rule.condition.type === 'no_data' || rule.condition.type === 'offline' ? rule.condition.seconds * 1000 : 0;
  return {
    id: rule.id,
    rule,
    type,
    sourceId,
    metric,
    forMs: (rule.for_seconds ?? 0) * 1000,
    windowMs,
    watches(seriesSource, seriesMetric, seriesTags) {
      if (sourceId !== null && seriesSource !== sourceId) return false;
      if (offline) return true;
      if (seriesMetric !== metric) return false;
      return tagsMatch === undefined || tagsMatch(seriesTags);
    },
    meets: thresholdTest(rule.condition),
    mayMeetWithin: rangeTest(rule.condition),
    meetsAllWithin: wholeRangeTest(rule.condition),
  };
}

function wholeRangeTest(condition: AlertCondition): (min: number, max: number) => boolean {
  switch (condition.type) {
    case 'above':
      return (min) => min > condition.threshold;
    case 'below':
      return (_min, max) => max < condition.threshold;
    case 'outside':
      return (min, max) => max < condition.low || min > condition.high;
    case 'inside':
      return (min, max) => condition.low <= min && max <= condition.high;
    default:
      return NEVER;
  }
}

function rangeTest(condition: AlertCondition): (min: number, max: number) => boolean {
  switch (condition.type) {
    case 'above':
      return (_min, max) => max > condition.threshold;
    case 'below':
      return (min) => min < condition.threshold;
    case 'outside':
      return (min, max) => min < condition.low || max > condition.high;
    case 'inside':
      return (min, max) => max >= condition.low && min <= condition.high;
    default:
      return NEVER;
  }
}

const NONE: readonly CompiledRule[] = Object.freeze([]);

interface MetricRules {
  /** Rules of this metric on every source. */
  anySource: CompiledRule[];
  bySource: Map<string, CompiledRule[]>;
  /** Sources that have rules of their own as well: both lists, concatenated once. */
  merged: Map<string, readonly CompiledRule[]>;
}

/**
 * The rules of ONE org, indexed for the per-point path: a point's series finds the few rules that
 * may watch it with two map lookups instead of testing every rule. Immutable: when the org's rules
 * change, build a new index.
 */
export class RuleIndex {
  private readonly byMetric = new Map<string, MetricRules>();
  private readonly offline: CompiledRule[] = [];
  private readonly offlineAnySource: CompiledRule[] = [];
  private readonly offlineBySource = new Map<string, CompiledRule[]>();
  private readonly noData: CompiledRule[] = [];

  constructor(readonly rules: readonly CompiledRule[]) {
    for (const rule of rules) {
      if (rule.type === 'offline') {
        this.offline.push(rule);
        if (rule.sourceId === null) this.offlineAnySource.push(rule);
        else push(this.offlineBySource, rule.sourceId, rule);
        continue;
      }
      if (rule.type === 'no_data') this.noData.push(rule);
      if (rule.metric === null) continue;
      let entry = this.byMetric.get(rule.metric);
      if (!entry) this.byMetric.set(rule.metric, (entry = { anySource: [], bySource: new Map(), merged: new Map() }));
      if (rule.sourceId === null) entry.anySource.push(rule);
      else push(entry.bySource, rule.sourceId, rule);
    }
  }

  /**
   * The threshold and no_data rules whose source and metric could match a series of this source
   * and metric (tags are the caller's to check per series, with `watches`). Do not modify the list.
   */
  forSeries(sourceId: string, metric: string): readonly CompiledRule[] {
    const entry = this.byMetric.get(metric);
    if (!entry) return NONE;
    const own = entry.bySource.get(sourceId);
    if (!own) return entry.anySource.length ? entry.anySource : NONE;
    if (!entry.anySource.length) return own;
    let list = entry.merged.get(sourceId);
    if (!list) {
      list = [...entry.anySource, ...own];
      entry.merged.set(sourceId, list);
    }
    return list;
  }

  /** Every offline rule of the org. */
  offlineRules(): readonly CompiledRule[] {
    return this.offline;
  }

  /** The offline rules that watch this source. */
  offlineRulesFor(sourceId: string): readonly CompiledRule[] {
    const own = this.offlineBySource.get(sourceId);
    if (!own) return this.offlineAnySource.length ? this.offlineAnySource : NONE;
    return this.offlineAnySource.length ? [...this.offlineAnySource, ...own] : own;
  }

  /** Every no_data rule of the org. */
  noDataRules(): readonly CompiledRule[] {
    return this.noData;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
