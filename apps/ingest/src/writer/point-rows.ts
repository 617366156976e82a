import { pointTimeMicros, type TelemetryMessage, validateIngestBody } from '#common';
import { canonicalTags, type SeriesIdentity, seriesKey } from '../points/series-key.js';

/** A message that can never be written, whatever the retries: it goes to the dead-letter subject. */
export class PoisonMessageError extends Error {}

/** The points of a batch of messages, column by column, ready for series resolution and COPY. */
export class ParsedPoints {
  readonly identities: SeriesIdentity[] = [];
  readonly keys: string[] = [];
  readonly timesUs: number[] = [];
  readonly nums: Array<number | null> = [];
  /** JSON text of every value that is not a number. */
  readonly jsons: Array<string | null> = [];

  get count(): number {
    return this.keys.length;
  }
}

/**
 * Adds the points of one JetStream telemetry message. Numbers go to value_num, every other value
 * to value_json; a point without a timestamp gets the time the gateway received it.
 */
export function addMessagePoints(data: Uint8Array | string, into: ParsedPoints): number {
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
  for (const point of checked.points) {
    const value = point.value;
    const sessionId = point.session_id ?? '';
    const tags = canonicalTags(point.tags);
    into.identities.push({ orgId, sourceId: point.source_id, metric: point.metric, sessionId, tags });
    into.keys.push(seriesKey(orgId, point.source_id, point.metric, sessionId, tags));
    into.timesUs.push(pointTimeMicros(point.timestamp, message.received_at_us));
    if (typeof value === 'number') {
      into.nums.push(value);
      into.jsons.push(null);
    } else {
      into.nums.push(null);
      into.jsons.push(JSON.stringify(value));
    }
  }
  return checked.points.length;
}
