import { decodeTelemetryBatch, encodeTelemetry, type IncomingPoint, type TelemetryBatch } from '#common';

/** Points as the ingest writer receives them: encoded as the gateway publishes them (one message), then decoded. */
export function telemetryBatch(orgId: string, receivedAtUs: number, points: readonly unknown[]): TelemetryBatch {
  const parts = encodeTelemetry(orgId, receivedAtUs, points as IncomingPoint[], 1024 * 1024);
  if (parts.length !== 1) throw new Error(`expected one message, the points took ${parts.length}`);
  return decodeTelemetryBatch(parts[0]);
}
