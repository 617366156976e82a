/** A point as clients send it (HTTP body or device telemetry), validated at the edge. */
export interface IncomingPoint {
  metric: string;
  value: number | string | boolean | Record<string, unknown> | unknown[];
  timestamp?: number;
  source_id: string;
  tags?: Record<string, string | number | boolean>;
  session_id?: string;
}

/**
 * The JSON form of a JetStream message on `SUBJECTS.telemetry.forOrg(org)` (one accepted request)
 * that versions before the binary form (telemetry/telemetry-batch.ts) published; still read.
 * `received_at_us` fixes the time of points sent without a timestamp, so a redelivered
 * message yields exactly the same rows.
 */
export interface TelemetryMessage {
  org_id: string;
  received_at_us: number;
  request: { points: IncomingPoint[] };
}
