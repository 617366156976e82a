import { Injectable } from '@nestjs/common';
import type { TelemetryBatch } from '#common';
import { PointsRepository } from '../points/points.repository.js';
import { SeriesRepository } from '../points/series.repository.js';
import { SeriesRuns } from './point-rows.js';

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
    const runs = new SeriesRuns();
    for (const message of messages) runs.add(message);
    if (!runs.count) return 0;
    const seriesIds = await this.series.resolve(runs.keys, (i) => runs.identity(i));
    await this.points.write(seriesIds, runs.runs);
    // After the commit and outside it: the points are safe; this only keeps the fleet current.
    await this.series.markSeen();
    return runs.count;
  }
}
