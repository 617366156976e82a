import { Injectable } from '@nestjs/common';
import { PointsRepository } from '../points/points.repository.js';
import { SeriesRepository } from '../points/series.repository.js';
import { addMessagePoints, ParsedPoints } from './point-rows.js';

/**
 * Writes telemetry messages: parses every message first (a bad one throws before anything is
 * written), resolves the series of their points (creating new ones, committed before the points
 * that use them), then stores all the points in one transaction.
 */
@Injectable()
export class PointsWriter {
  constructor(
    private readonly series: SeriesRepository,
    private readonly points: PointsRepository,
  ) {}

  async write(messages: Array<string | Uint8Array>): Promise<number> {
    const parsed = new ParsedPoints();
    for (const data of messages) addMessagePoints(data, parsed);
    const seriesIds = await this.series.resolve(parsed.keys, (i) => parsed.identity(i));
    await this.points.write({ seriesIds, timesUs: parsed.timesUs, nums: parsed.nums, jsons: parsed.jsons });
    // After the commit and outside it: the points are safe; this only keeps the fleet current.
    await this.series.markSeen();
    return parsed.count;
  }
}
