import type { IncomingPoint } from '#common';

/** What identifies a series: one stream of values of one metric of one source, session and tag set. */
export interface SeriesIdentity {
  orgId: string;
  sourceId: string;
  metric: string;
  /** '' when the point belongs to no session. */
  sessionId: string;
  /** Tags as canonical JSON (keys sorted), '' for none. */
  tags: string;
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

/** The series cache's key: every part of the identity, NUL-separated (NUL cannot occur in any part). */
export function seriesKey(orgId: string, sourceId: string, metric: string, sessionId: string, tags: string): string {
  return `${orgId}\u0000${sourceId}\u0000${metric}\u0000${sessionId}\u0000${tags}`;
}
