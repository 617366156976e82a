import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { poolOf } from '#common';
import { groupPoints } from '../dry-run/point-reader.js';

/** Points of a series group read back for the evaluation: times (µs) and numbers (NaN where the value is not one). */
export interface StoredRun {
  timesUs: number[];
  nums: number[];
  jsons: null;
}

/** Points read in pages of this many (per storage series at least 100: point-reader's merge). */
const PAGE_SIZE = 10_000;

/**
 * The committed points of a feed summary's series, for a series group whose span may cross a
 * line: the org's rows only (a summary names storage series by id, and the id alone proves
 * nothing), oldest first, in [fromUs, toUs].
 */
@Injectable()
export class StoredPoints {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async read(orgId: string, seriesIds: readonly number[], fromUs: number, toUs: number): Promise<StoredRun> {
    const run: StoredRun = { timesUs: [], nums: [], jsons: null };
    const client = await poolOf(this.dataSource).connect();
    let failed: Error | undefined;
    try {
      for await (const point of groupPoints(client, orgId, seriesIds, { fromUs, toUs: toUs + 1 }, PAGE_SIZE)) {
        run.timesUs.push(point.timeUs);
        run.nums.push(typeof point.value === 'number' ? point.value : NaN);
      }
      return run;
    } catch (error) {
      failed = error as Error;
      throw error;
    } finally {
      client.release(failed);
    }
  }
}
