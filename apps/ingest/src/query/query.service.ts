import { Injectable } from '@nestjs/common';
import type { QueryPointsRequest } from '#common';
import { PointsRepository } from '../points/points.repository.js';
import { queryPointJson } from './point-format.js';

/** `/api/query`: raw points or time buckets (aligned to the Unix epoch), oldest first. */
@Injectable()
export class QueryService {
  constructor(private readonly repository: PointsRepository) {}

  /** The `points` array's content: comma-separated point objects. */
  async *points(request: QueryPointsRequest): AsyncGenerator<string> {
    let first = true;
    if (request.bucket_us === undefined) {
      for await (const rows of this.repository.rawPoints(request)) {
        let chunk = '';
        for (const row of rows) {
          chunk += (first ? '' : ',') + queryPointJson(row);
          first = false;
        }
        yield chunk;
      }
      return;
    }
    for await (const rows of this.repository.buckets({ ...request, bucket_us: request.bucket_us })) {
      let chunk = '';
      for (const row of rows) {
        // count arrives as a bigint string, first/last as JSON text: both are already JSON.
        chunk += `${first ? '' : ','}{"timestamp":${row.ts},"value":${row.v === null ? 'null' : String(row.v)}}`;
        first = false;
      }
      yield chunk;
    }
  }
}
