import { type IncomingPoint, pointTimeMicros, type TelemetryMessage, validateIngestBody } from '#common';
import { canonicalTags, type SeriesIdentity, seriesKey } from '../points/series-key.js';

/** A message that can never be written, whatever the retries: it goes to the dead-letter subject. */
export class PoisonMessageError extends Error {}

/** The points of a batch of messages, column by column, ready for series resolution and COPY. */
export class ParsedPoints {
  readonly keys: string[] = [];
  /** The point and its org, to build a series identity from when its key is not cached. */
  readonly points: IncomingPoint[] = [];
  readonly orgs: string[] = [];
  readonly timesUs: number[] = [];
  readonly nums: Array<number | null> = [];
  /** JSON text of every value that is not a number. */
  readonly jsons: Array<string | null> = [];

  get count(): number {
    return this.keys.length;
  }

  identity(i: number): SeriesIdentity {
    const point = this.points[i];
    return {
      orgId: this.orgs[i],
      sourceId: point.source_id,
      metric: point.metric,
      sessionId: point.session_id ?? '',
      tags: canonicalTags(point.tags),
    };
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
    into.keys.push(seriesKey(orgId, point.source_id, point.metric, point.session_id ?? '', canonicalTags(point.tags)));
    into.points.push(point);
    into.orgs.push(orgId);
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
