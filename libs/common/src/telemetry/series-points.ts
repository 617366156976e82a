import type { IncomingPoint } from '../messages/telemetry.js';
import { pointTimeMicros } from './ingest-schema.js';

/**
 * The points of one series in one telemetry message, column by column: what the gateway sends
 * through JetStream and what the ingest writer stores. A series is one stream of values of one
 * metric of one source, session and tag set.
 */
export interface SeriesPoints {
  sourceId: string;
  metric: string;
  /** '' when the points belong to no session. */
  sessionId: string;
  /** Tags as canonical JSON (keys in code-unit order), '' for none. */
  tags: string;
  /** Unix microseconds (whole numbers), one per point. */
  timesUs: ArrayLike<number>;
  /** The value of each numeric point; NaN where the value is not a number (see `jsons`). */
  nums: ArrayLike<number>;
  /** JSON text of each value that is not a number (null at numeric points); null when every value is a number. */
  jsons: Array<string | null> | null;
}

type Tags = NonNullable<IncomingPoint['tags']>;

/**
 * Tags as JSON with their keys in code-unit order, '' for no tags: equal tag sets give equal
 * text whatever order they arrived in, as PostgreSQL's jsonb sees them.
 */
export function canonicalTags(tags: Tags | undefined): string {
  if (!tags) return '';
  const keys = Object.keys(tags);
  if (!keys.length) return '';
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1] < keys[i];
  if (sorted) return JSON.stringify(tags);
  const ordered: Record<string, unknown> = {};
  for (const key of keys.sort()) ordered[key] = tags[key];
  return JSON.stringify(ordered);
}

interface Growing {
  series: SeriesPoints;
  timesUs: number[];
  nums: number[];
  jsons: Array<string | null> | null;
  /** The first point's session and tags, to compare the next points' with. */
  sessionId: string | undefined;
  tags: Tags | undefined;
}

/** Distinct tag sets looked through one by one under a source and metric before a string key is built per point. */
const SCANNED_GROUPS = 8;

/** The groups of one source and metric: the first few by comparing tags, the rest by a string key. */
interface MetricGroups {
  scanned: Growing[];
  keyed?: Map<string, Growing>;
}

/**
 * Validated points grouped by series, in order of first appearance, each series' points in
 * request order. A point without a timestamp gets `receivedAtUs`. Looked up by source, then
 * metric, then session and tags compared as they are (no string built per point); past
 * SCANNED_GROUPS tag sets under one metric, by a key of session and tags' JSON, so a request of
 * 10,000 distinct tag sets costs no more than 10,000 map lookups.
 */
export function groupBySeries(points: readonly IncomingPoint[], receivedAtUs: number): SeriesPoints[] {
  const bySource = new Map<string, Map<string, MetricGroups>>();
  const ordered: Growing[] = [];
  for (const point of points) {
    let byMetric = bySource.get(point.source_id);
    if (!byMetric) bySource.set(point.source_id, (byMetric = new Map()));
    let groups = byMetric.get(point.metric);
    if (!groups) byMetric.set(point.metric, (groups = { scanned: [] }));
    const group = findGroup(groups, point) ?? addGroup(groups, point, ordered);
    const value = point.value;
    group.timesUs.push(pointTimeMicros(point.timestamp, receivedAtUs));
    if (typeof value === 'number') {
      group.nums.push(value);
      group.jsons?.push(null);
    } else {
      group.nums.push(NaN);
      group.jsons ??= new Array<string | null>(group.nums.length - 1).fill(null);
      group.jsons.push(JSON.stringify(value));
    }
  }
  for (const group of ordered) group.series.jsons = group.jsons;
  return ordered.map((group) => group.series);
}

function findGroup(groups: MetricGroups, point: IncomingPoint): Growing | undefined {
  for (const group of groups.scanned) {
    if (group.sessionId === point.session_id && sameTags(group.tags, point.tags)) return group;
  }
  return groups.keyed?.get(groupKey(point));
}

function addGroup(groups: MetricGroups, point: IncomingPoint, ordered: Growing[]): Growing {
  const timesUs: number[] = [];
  const nums: number[] = [];
  const series = {
    sourceId: point.source_id,
    metric: point.metric,
    sessionId: point.session_id ?? '',
    tags: canonicalTags(point.tags),
    timesUs,
    nums,
    jsons: null,
  };
  const group: Growing = { series, timesUs, nums, jsons: null, sessionId: point.session_id, tags: point.tags };
  if (groups.scanned.length < SCANNED_GROUPS) groups.scanned.push(group);
  else (groups.keyed ??= new Map()).set(groupKey(point), group);
  ordered.push(group);
  return group;
}

function groupKey(point: IncomingPoint): string {
  return `${point.session_id ?? ''}\u0000${point.tags ? JSON.stringify(point.tags) : ''}`;
}

/** Same keys and values, in any order (tags are flat: strings, numbers, booleans). */
function sameTags(a: Tags | undefined, b: Tags | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  let keys = 0;
  for (const key in a) {
    if (!Object.hasOwn(b, key) || a[key] !== b[key]) return false;
    keys++;
  }
  for (const _key in b) if (--keys < 0) return false;
  return keys === 0;
}

/** How many points the series hold in all. */
export function pointCount(series: readonly SeriesPoints[]): number {
  let count = 0;
  for (const s of series) count += s.timesUs.length;
  return count;
}
