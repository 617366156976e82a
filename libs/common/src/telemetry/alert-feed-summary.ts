import { unsafeTextReason } from '../validation/text-safety.js';
import type { SeriesPoints } from './series-points.js';
import { TelemetryDecodeError } from './telemetry-batch.js';

/**
 * A message of the alert feed that describes what a committed batch stored for one org, series by
 * series, instead of carrying its points: header `Plexus-Encoding: plexus-feed-2`. A rule at rest
 * needs only a series' span of numbers to know it is not crossed, so the alerts app no longer
 * receives and reads every point; for the few series whose span may cross a line it reads their
 * points back from PostgreSQL (they are committed before the summary is published), by the
 * storage series ids carried here and the time range of the batch's points.
 *
 * JSON: `{"org": "<org id>", "series": [[seriesId, sourceId, metric, tags, count, firstUs,
 * latestUs, numbers, min, max, latestNumberUs], …]}` — tags as canonical JSON ('' for none);
 * times in Unix microseconds; `numbers` counts the numeric points, `min`, `max` and
 * `latestNumberUs` are over them (null when there are none).
 */
export const FEED_SUMMARY_ENCODING = 'plexus-feed-2';

/** The points one storage series got in one committed batch, as the alerts app needs them. */
export interface FeedSeries {
  seriesId: number;
  sourceId: string;
  metric: string;
  /** Canonical JSON, '' for none. */
  tags: string;
  /** Points of any value, and the earliest and latest time among them (µs). */
  count: number;
  firstUs: number;
  latestUs: number;
  /** Numeric points; min, max and latestNumberUs are over them (numbers 0: NaN, NaN, -Infinity). */
  numbers: number;
  min: number;
  max: number;
  latestNumberUs: number;
}

export interface FeedSummary {
  orgId: string;
  series: FeedSeries[];
}

/** What a series' entry may hold at most: names and tags as the gateway bounds them, with room to spare. */
const MAX_NAME_LENGTH = 1024;
const MAX_TAGS_LENGTH = 64 * 1024;
const MAX_ORG_LENGTH = 256;

/** The span of one series' points of a batch (its runs of several messages taken together). */
export function summariseSeries(seriesId: number, runs: readonly SeriesPoints[]): FeedSeries {
  const { sourceId, metric, tags } = runs[0];
  let count = 0;
  let firstUs = Infinity;
  let latestUs = -Infinity;
  let numbers = 0;
  let min = Infinity;
  let max = -Infinity;
  let latestNumberUs = -Infinity;
  for (const { timesUs, nums } of runs) {
    count += timesUs.length;
    for (let i = 0; i < timesUs.length; i++) {
      const t = timesUs[i];
      if (t < firstUs) firstUs = t;
      if (t > latestUs) latestUs = t;
      const value = nums[i];
      if (Number.isNaN(value)) continue;
      numbers++;
      if (value < min) min = value;
      if (value > max) max = value;
      if (t > latestNumberUs) latestNumberUs = t;
    }
  }
  return numbers
    ? { seriesId, sourceId, metric, tags, count, firstUs, latestUs, numbers, min, max, latestNumberUs }
    : { seriesId, sourceId, metric, tags, count, firstUs, latestUs, numbers, min: NaN, max: NaN, latestNumberUs: -Infinity };
}

/** One series' entry as JSON text (the publisher sums their sizes to stay within the payload bound). */
export function feedSeriesJson(s: FeedSeries): string {
  return JSON.stringify(
    s.numbers
      ? [s.seriesId, s.sourceId, s.metric, s.tags, s.count, s.firstUs, s.latestUs, s.numbers, s.min, s.max, s.latestNumberUs]
      : [s.seriesId, s.sourceId, s.metric, s.tags, s.count, s.firstUs, s.latestUs, 0, null, null, null],
  );
}

/** A summary message from entries made by feedSeriesJson. */
export function encodeFeedSummary(orgId: string, entries: readonly string[]): Buffer {
  return Buffer.from(`{"org":${JSON.stringify(orgId)},"series":[${entries.join(',')}]}`);
}

/** The bytes a summary message takes besides its entries and their commas. */
export function feedSummaryOverhead(orgId: string): number {
  return Buffer.byteLength(`{"org":${JSON.stringify(orgId)},"series":[]}`);
}

/**
 * A summary message, every field checked: whoever can publish on the feed's subjects is not
 * trusted with the alerts app's memory or its queries. Throws TelemetryDecodeError naming the problem.
 */
export function decodeFeedSummary(data: Uint8Array): FeedSummary {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    throw new TelemetryDecodeError('feed summary is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new TelemetryDecodeError('feed summary is not an object');
  const { org, series } = parsed as { org?: unknown; series?: unknown };
  if (!isName(org, MAX_ORG_LENGTH)) throw new TelemetryDecodeError('feed summary has no valid org');
  if (!Array.isArray(series)) throw new TelemetryDecodeError('feed summary has no series list');
  return { orgId: org, series: series.map((entry, i) => feedSeries(entry, i)) };
}

function feedSeries(entry: unknown, i: number): FeedSeries {
  const bad = (what: string) => new TelemetryDecodeError(`feed summary series ${i}: ${what}`);
  if (!Array.isArray(entry) || entry.length !== 11) throw bad('not an entry of 11 fields');
  const [seriesId, sourceId, metric, tags, count, firstUs, latestUs, numbers, min, max, latestNumberUs] = entry as unknown[];
  if (!isCount(seriesId) || seriesId < 1) throw bad('series id is not a positive integer');
  if (!isName(sourceId, MAX_NAME_LENGTH) || !isName(metric, MAX_NAME_LENGTH)) throw bad('source or metric is not a name');
  if (typeof tags !== 'string' || tags.length > MAX_TAGS_LENGTH || !isTags(tags)) throw bad('tags are not canonical JSON of an object');
  if (!isCount(count) || count < 1) throw bad('count is not a positive integer');
  if (!isTime(firstUs) || !isTime(latestUs) || firstUs > latestUs) throw bad('times are not a range of microseconds');
  if (!isCount(numbers) || numbers > count) throw bad('numbers is not a count of at most count');
  if (numbers === 0) {
    if (min !== null || max !== null || latestNumberUs !== null) throw bad('a span without numbers');
    return { seriesId, sourceId, metric, tags, count, firstUs, latestUs, numbers, min: NaN, max: NaN, latestNumberUs: -Infinity };
  }
  if (typeof min !== 'number' || typeof max !== 'number' || min > max) throw bad('min and max are not a span');
  if (!isTime(latestNumberUs) || latestNumberUs < firstUs || latestNumberUs > latestUs) throw bad('latest number time is out of range');
  return { seriesId, sourceId, metric, tags, count, firstUs, latestUs, numbers, min, max, latestNumberUs };
}

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isTime = (value: unknown): value is number => Number.isSafeInteger(value);
const isName = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= max && unsafeTextReason(value) === undefined;

function isTags(tags: string): boolean {
  if (tags === '') return true;
  if (unsafeTextReason(tags) !== undefined) return false;
  try {
    const value: unknown = JSON.parse(tags);
    return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0;
  } catch {
    return false;
  }
}
