import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import {
  BrokerConnection,
  DomainError,
  parseDuration,
  parseTimeParam,
  type Principal,
  type QueryPointsRequest,
  readableChunks,
  SUBJECTS,
} from '#common';
import type { QueryPointsDto } from './dto/query-points.dto.js';

const DEFAULT_LIMIT = 1000;

@Injectable()
export class QueryService {
  constructor(private readonly broker: BrokerConnection) {}

  /** Streams `{ source_id, metric, bucket?, agg?, points: [...] }`; the ingest app writes the points part. */
  async points(principal: Principal, dto: QueryPointsDto): Promise<Readable> {
    const request: QueryPointsRequest = {
      org_id: principal.org_id,
      source_id: dto.source_id,
      metric: dto.metric,
      from_us: timeParam('from', dto.from),
      to_us: timeParam('to', dto.to),
      bucket_us: dto.bucket === undefined ? undefined : parseDuration(dto.bucket),
      agg: dto.agg ?? 'avg',
      limit: dto.limit ?? DEFAULT_LIMIT,
    };
    if (request.from_us !== undefined && request.to_us !== undefined && request.from_us > request.to_us) {
      throw new DomainError('BAD_REQUEST', 'from must not be after to', [{ field: 'from', message: 'from must not be after to' }]);
    }
    const head = {
      source_id: dto.source_id,
      metric: dto.metric,
      ...(dto.bucket ? { bucket: dto.bucket, agg: request.agg } : {}),
    };
    const prefix = `${JSON.stringify(head).slice(0, -1)},"points":[`;
    return readableChunks(this.broker.nc, SUBJECTS.query.points, request, { prefix, suffix: ']}' });
  }
}

function timeParam(field: 'from' | 'to', value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const us = parseTimeParam(value);
  if (us === undefined) {
    throw new DomainError('BAD_REQUEST', `${field} must be an ISO-8601 time or Unix seconds`, [
      { field, message: `${field} must be an ISO-8601 time or Unix seconds` },
    ]);
  }
  return us;
}
