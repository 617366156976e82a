export const AGGREGATES = ['avg', 'min', 'max', 'sum', 'count', 'first', 'last'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

export interface QueryPointsRequest {
  org_id: string;
  source_id: string;
  metric: string;
  /** Unix microseconds, inclusive. */
  from_us?: number;
  /** Unix microseconds, exclusive. */
  to_us?: number;
  /** Bucket width in microseconds; absent for raw points. */
  bucket_us?: number;
  agg: Aggregate;
  limit: number;
}

export interface QueriedPoint {
  timestamp: number;
  value: unknown;
  tags?: Record<string, unknown>;
  session_id?: string;
}
