import { Injectable } from '@nestjs/common';
import type { TelemetryBatch } from '#common';
import { PointsRepository } from '../points/points.repository.js';
import { SeriesRepository } from '../points/series.repository.js';
import { SeriesRuns } from './point-rows.js';

/** A committed batch: its runs (SeriesRuns) and the storage series id of each run, in the same order. */
export interface WrittenRuns {
  runs: SeriesRuns;
  seriesIds: readonly number[];
}

/**
 * Writes decoded telemetry messages: resolves the series of their points (creating new ones,
 * committed before the points that use them), then stores all the points in one transaction.
 */
@Injectable()
export class PointsWriter {
  constructor(
    private readonly series: SeriesRepository,
    private readonly points: PointsRepository,
  ) {}

  async write(messages: readonly TelemetryBatch[]): Promise<number> {
    return (await this.writeRuns(messages)).runs.count;
  }

  /** write, answering the runs stored and the storage series of each (what the alert feed describes). */
  async writeRuns(messages: readonly TelemetryBatch[]): Promise<WrittenRuns> {
    const runs = new SeriesRuns();
    for (const message of messages) runs.add(message);
    if (!runs.count) return { runs, seriesIds: [] };
    const seriesIds = await this.series.resolve(runs.keys, (i) => runs.identity(i));
    await this.points.write(seriesIds, runs.runs);
    // After the commit and outside it: the points are safe; this only keeps the fleet current.
    await this.series.markSeen();
    return { runs, seriesIds };
  }
}
