import { isoFromMicros, pointTimeMicros, type TelemetryMessage, validateIngestBody } from '#common';
import { COPY_NULL, copyText } from './copy-text.js';

/** A message that can never be written, whatever the retries: it goes to the dead-letter subject. */
export class PoisonMessageError extends Error {}

export interface SourceSeen {
  orgId: string;
  sourceId: string;
}

export interface SessionSeen {
  orgId: string;
  sessionId: string;
  sourceId: string;
}

/**
 * Turns one JetStream telemetry message into COPY lines for the points table
 * (time, org_id, source_id, metric, value_num, value_json, tags, session_id).
 * Numbers go to the float column, every other value to JSON.
 */
export function messageToCopyLines(
  data: Uint8Array | string,
  sessions: Map<string, SessionSeen>,
  sources: Map<string, SourceSeen> = new Map(),
): { lines: string; count: number } {
  let message: TelemetryMessage;
  try {
    message = JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8')) as TelemetryMessage;
  } catch (error) {
    throw new PoisonMessageError(`message is not JSON: ${(error as Error).message}`);
  }
  const orgId = message?.org_id;
  if (typeof orgId !== 'string' || !Number.isSafeInteger(message.received_at_us)) {
    throw new PoisonMessageError('message lacks org_id or received_at_us');
  }
  const checked = validateIngestBody(message.request);
  if (!checked.ok) throw new PoisonMessageError(`invalid points: ${checked.detail.message}`);
  const org = copyText(orgId);
  let lines = '';
  for (const point of checked.points) {
    const value = point.value;
    const numeric = typeof value === 'number';
    const sessionId = point.session_id ?? '';
    const sourceKey = `${orgId}\u0000${point.source_id}`;
    if (!sources.has(sourceKey)) sources.set(sourceKey, { orgId, sourceId: point.source_id });
    if (sessionId) {
      const key = `${orgId}\u0000${sessionId}`;
      if (!sessions.has(key)) sessions.set(key, { orgId, sessionId, sourceId: point.source_id });
    }
    lines +=
      `${isoFromMicros(pointTimeMicros(point.timestamp, message.received_at_us))}\t${org}\t${copyText(point.source_id)}\t${copyText(point.metric)}\t` +
      `${numeric ? String(value) : COPY_NULL}\t${numeric ? COPY_NULL : copyText(JSON.stringify(value))}\t` +
      `${point.tags ? copyText(JSON.stringify(point.tags)) : '{}'}\t${copyText(sessionId)}\n`;
  }
  return { lines, count: checked.points.length };
}
