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
import { GatewayConfig } from '../config.js';
import type { QueryPointsDto } from './dto/query-points.dto.js';
import { QueryConcurrency } from './query-concurrency.js';

const DEFAULT_LIMIT = 1000;

@Injectable()
export class QueryService {
  constructor(
    private readonly broker: BrokerConnection,
    private readonly concurrency: QueryConcurrency,
    private readonly config: GatewayConfig,
  ) {}

  /**
   * Streams `{ source_id, metric, bucket?, agg?, points: [...] }`; the ingest app writes the points
   * part. Validated in full first (nothing out of PostgreSQL's range reaches SQL), then counted
   * against the key's cap of queries and exports in flight.
   */
  async points(principal: Principal, dto: QueryPointsDto): Promise<Readable> {
    const request: QueryPointsRequest = {
      org_id: principal.org_id,
      source_id: dto.source_id,
      metric: dto.metric,
      from_us: timeParam('from', dto.from),
      to_us: timeParam('to', dto.to),
      bucket_us: bucketParam(dto.bucket),
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
    return this.concurrency.stream(principal, () =>
      readableChunks(
        this.broker.nc,
        SUBJECTS.query.points,
        request,
        { prefix, suffix: ']}' },
        { stallTimeoutMs: this.config.streamStallTimeoutMs },
      ),
    );
  }
}

function bucketParam(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const us = parseDuration(value);
  if (us === undefined) {
    const message = 'bucket must be a width from 1ms to 100 years (36525d), like 500ms, 1s, 5m, 1h or 1d';
    throw new DomainError('BAD_REQUEST', message, [{ field: 'bucket', message }]);
  }
  return us;
}

function timeParam(field: 'from' | 'to', value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const us = parseTimeParam(value);
  if (us === undefined) {
    const message = `${field} must be an ISO-8601 time or Unix seconds between the years 0001 and 9999`;
    throw new DomainError('BAD_REQUEST', message, [{ field, message }]);
  }
  return us;
}
