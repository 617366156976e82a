import { Injectable, Logger } from '@nestjs/common';
import { type DeviceEventFrame, ServicesClient, SUBJECTS, TelemetryPublisher, validateIngestBody } from '#common';
import type { DeviceConnection } from './device-connection.js';

/**
 * Recorded telemetry: points that carry a session id (on the message or in their tags) enter
 * the same durable JetStream pipeline as HTTP ingest. Sessions a device reports stopped are
 * completed.
 */
@Injectable()
export class Recorder {
  private readonly logger = new Logger(Recorder.name);

  constructor(
    private readonly publisher: TelemetryPublisher,
    private readonly services: ServicesClient,
  ) {}

  /** Resolves to an error message for the device, or undefined when recorded (or nothing to record). */
  async record(device: DeviceConnection, frame: DeviceEventFrame<'telemetry'>): Promise<string | undefined> {
    // Live points are relayed as sent (the wire schema leaves them open); recorded ones meet the ingest rules here.
    const candidates: object[] = [];
    for (const point of frame.points ?? []) {
      const sessionId = frame.session_id ?? tagSession(point);
      if (!sessionId) continue;
      candidates.push({ ...(isObject(point) ? point : {}), source_id: device.sourceId, session_id: sessionId });
    }
    if (!candidates.length) return undefined;
    const checked = validateIngestBody({ points: candidates });
    if (!checked.ok) return `recorded telemetry rejected: ${checked.detail.message}`;
    const points = checked.points;
    try {
      await this.publisher.publish(
        device.orgId,
        { points, receivedAtUs: Date.now() * 1000 },
        { correlationId: `${device.sourceId}:${device.socket.id}` },
      );
      return undefined;
    } catch (error) {
      return `recorded telemetry not stored: ${(error as Error).message}`;
    }
  }

  /** `sessionId` is checked by the caller (1–128 printable characters): it goes to the database. */
  completeSession(device: DeviceConnection, sessionId: string): void {
    this.services
      .call(SUBJECTS.sessions.update, { org_id: device.orgId, session_id: sessionId, status: 'completed' })
      .catch((error: Error) => this.logger.warn(`could not complete session ${JSON.stringify(sessionId)}: ${error.message}`));
  }
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** A point's own `tags.session_id`, when it has one. */
function tagSession(point: unknown): string | undefined {
  if (!isObject(point) || !('tags' in point) || !isObject(point.tags) || !('session_id' in point.tags)) return undefined;
  return typeof point.tags.session_id === 'string' ? point.tags.session_id : undefined;
}
