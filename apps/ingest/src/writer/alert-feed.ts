import { createHash } from 'node:crypto';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import {
  encodeFeedSummary,
  ENCODING_HEADER,
  FEED_SUMMARY_ENCODING,
  feedSeriesJson,
  feedSummaryOverhead,
  type SeriesPoints,
  SUBJECTS,
  SUBJECTS_PREFIX,
  subjectToken,
  summariseSeries,
} from '#common';
import type { WrittenRuns } from './points-writer.service.js';

const TELEMETRY_SUBJECT_PREFIX = `${SUBJECTS_PREFIX}.telemetry.`;
/** Room left in a feed message for its headers. */
const HEADER_ROOM = 1024;

/**
 * Tells the alerts app what a committed batch stored, before the batch is acked: per org, one
 * entry per storage series — its span of numbers, its point count and time range
 * (FEED_SUMMARY_ENCODING) — in as few feed messages as the broker's payload bound allows. The
 * points themselves stay in PostgreSQL: the alerts app reads back only those of a series whose
 * span may cross a line. Each feed message's id names the telemetry sequences of its org in the
 * batch (and its place among the org's messages), so the same batch fed again within the duplicate
 * window is stored once.
 */
export async function feedAlerts(js: JetStreamClient, batch: readonly JsMsg[], written: WrittenRuns, maxPayload: number): Promise<void> {
  const byOrg = summariesByOrg(written);
  if (!byOrg.size) return;
  const sequences = sequencesByOrg(batch);
  const room = maxPayload - HEADER_ROOM;
  const sends: Array<Promise<unknown>> = [];
  for (const [orgId, entries] of byOrg) {
    const subject = SUBJECTS.alerts.feed(orgId);
    const ids = idOf(sequences.get(subjectToken(orgId)) ?? []);
    const overhead = feedSummaryOverhead(orgId);
    let group: string[] = [];
    let size = overhead;
    let part = 0;
    const flush = () => {
      if (group.length) sends.push(publish(js, subject, orgId, group, `${ids}-${part++}`));
      group = [];
      size = overhead;
    };
    for (const entry of entries) {
      const bytes = Buffer.byteLength(entry) + 1;
      if (group.length && size + bytes > room) flush();
      group.push(entry);
      size += bytes;
    }
    flush();
  }
  await Promise.all(sends);
}

/** Each org's series entries: the runs of one storage series (several messages of the batch) as one. */
function summariesByOrg({ runs, seriesIds }: WrittenRuns): Map<string, string[]> {
  const bySeries = new Map<number, { orgId: string; runs: SeriesPoints[] }>();
  for (let i = 0; i < runs.runs.length; i++) {
    const found = bySeries.get(seriesIds[i]);
    if (found) found.runs.push(runs.runs[i]);
    else bySeries.set(seriesIds[i], { orgId: runs.orgs[i], runs: [runs.runs[i]] });
  }
  const byOrg = new Map<string, string[]>();
  for (const [seriesId, { orgId, runs: seriesRuns }] of bySeries) {
    const entry = feedSeriesJson(summariseSeries(seriesId, seriesRuns));
    const entries = byOrg.get(orgId);
    if (entries) entries.push(entry);
    else byOrg.set(orgId, [entry]);
  }
  return byOrg;
}

/** The telemetry sequences of each org's messages in the batch, by the org's subject token. */
function sequencesByOrg(batch: readonly JsMsg[]): Map<string, number[]> {
  const found = new Map<string, number[]>();
  for (const msg of batch) {
    if (!msg.subject.startsWith(TELEMETRY_SUBJECT_PREFIX)) continue;
    const token = msg.subject.slice(TELEMETRY_SUBJECT_PREFIX.length);
    const seqs = found.get(token);
    if (seqs) seqs.push(msg.seq);
    else found.set(token, [msg.seq]);
  }
  return found;
}

/** The sequences, hashed: a message id stays short whatever the batch's size. */
function idOf(seqs: readonly number[]): string {
  return `s${seqs[0] ?? 0}-${createHash('sha256').update(seqs.join(',')).digest('base64url').slice(0, 22)}`;
}

function publish(js: JetStreamClient, subject: string, orgId: string, entries: string[], msgID: string): Promise<unknown> {
  const h = headers();
  h.set(ENCODING_HEADER, FEED_SUMMARY_ENCODING);
  return js.publish(subject, encodeFeedSummary(orgId, entries), { headers: h, msgID });
}
