import { Injectable, Logger } from '@nestjs/common';
import { type IncomingPoint, ServicesClient, SUBJECTS, TelemetryPublisher, validateIngestBody } from '#common';
import type { DeviceConnection } from './device-connection.js';

interface DeviceTelemetry {
  points?: Array<{ metric?: unknown; value?: unknown; timestamp?: unknown; tags?: Record<string, unknown> }>;
  session_id?: unknown;
}

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
  async record(device: DeviceConnection, message: DeviceTelemetry): Promise<string | undefined> {
    const messageSession = typeof message.session_id === 'string' ? message.session_id : undefined;
    const points: IncomingPoint[] = [];
    for (const point of Array.isArray(message.points) ? message.points : []) {
      const tagSession = typeof point?.tags?.session_id === 'string' ? point.tags.session_id : undefined;
      const sessionId = messageSession ?? tagSession;
      if (!sessionId) continue;
      points.push({ ...(point as IncomingPoint), source_id: device.sourceId, session_id: sessionId });
    }
    if (!points.length) return undefined;
    const checked = validateIngestBody({ points });
    if (!checked.ok) return `recorded telemetry rejected: ${checked.detail.message}`;
    try {
      await this.publisher.publish(
        device.orgId,
        { rawBody: JSON.stringify({ points }), points, receivedAtUs: Date.now() * 1000 },
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
