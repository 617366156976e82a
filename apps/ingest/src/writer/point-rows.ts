import type { SeriesPoints, TelemetryBatch } from '#common';
import { type SeriesIdentity, seriesKey } from '../points/series-key.js';

/** A message that can never be written, whatever the retries: it goes to the dead-letter subject. */
export class PoisonMessageError extends Error {}

/** The series runs of a batch of telemetry messages, each with its org and cache key: ready for series resolution and COPY. */
export class SeriesRuns {
  readonly runs: SeriesPoints[] = [];
  readonly keys: string[] = [];
  readonly orgs: string[] = [];
  count = 0;

  add(message: TelemetryBatch): void {
    for (const run of message.series) {
      this.runs.push(run);
      this.orgs.push(message.orgId);
      this.keys.push(seriesKey(message.orgId, run.sourceId, run.metric, run.sessionId, run.tags));
      this.count += run.timesUs.length;
    }
  }

  identity(i: number): SeriesIdentity {
    const run = this.runs[i];
    return { orgId: this.orgs[i], sourceId: run.sourceId, metric: run.metric, sessionId: run.sessionId, tags: run.tags };
  }
}
