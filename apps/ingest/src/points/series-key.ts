/** What identifies a series: one stream of values of one metric of one source, session and tag set. */
export interface SeriesIdentity {
  orgId: string;
  sourceId: string;
  metric: string;
  /** '' when the point belongs to no session. */
  sessionId: string;
  /** Tags as canonical JSON (keys sorted: canonicalTags), '' for none. */
  tags: string;
}

/** The series cache's key: every part of the identity, NUL-separated (NUL cannot occur in any part). */
export function seriesKey(orgId: string, sourceId: string, metric: string, sessionId: string, tags: string): string {
  return `${orgId}\u0000${sourceId}\u0000${metric}\u0000${sessionId}\u0000${tags}`;
}
