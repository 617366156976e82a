import { Injectable } from '@nestjs/common';
import {
  DomainError,
  INGEST_LIMITS,
  type IncomingPoint,
  type LineError,
  type LineProtocolOptions,
  METRICS,
  parseLineProtocol,
  TelemetryPublisher,
  validateIngestBody,
} from '#common';

export interface LineProtocolWrite {
  /** Points stored in JetStream. */
  written: number;
  /** Lines refused, in line order (at most MAX_ERRORS kept). */
  errors: LineError[];
  /** How many lines were refused in all. */
  refusedLines: number;
}

const MAX_ERRORS = 100;

/**
 * Line protocol → Plexus points → JetStream, with /api/ingest's promises: the points of every
 * good line are stored in JetStream before the answer, under the same limits, with the same
 * validation. A bad line is refused on its own (InfluxDB's partial write): its points are
 * dropped, the other lines are written, and the answer names it.
 */
@Injectable()
export class LineProtocolWriter {
  constructor(private readonly publisher: TelemetryPublisher) {}

  async write(
    orgId: string,
    body: string,
    options: LineProtocolOptions,
    meta: { idempotencyKey?: string; correlationId: string },
  ): Promise<LineProtocolWrite> {
    const parsed = parseLineProtocol(body, options);
    if (parsed.points.length > INGEST_LIMITS.maxPoints) {
      METRICS.ingestPointsRejected.inc(parsed.points.length);
      throw new DomainError(
        'PAYLOAD_TOO_LARGE',
        `the body holds ${parsed.points.length} points (one per field); a request may carry at most ${INGEST_LIMITS.maxPoints}`,
      );
    }
    const refused = new Map<number, string>(parsed.errors.map((e) => [e.line, e.message]));
    const points = this.refuseInvalid(parsed.points, parsed.pointLines, refused);
    const errors = [...refused.entries()].sort(([a], [b]) => a - b).map(([line, message]) => ({ line, message }));
    METRICS.ingestPointsRejected.inc(parsed.points.length - points.length);
    if (points.length) {
      await this.publisher.publish(orgId, { points, receivedAtUs: Date.now() * 1000 }, meta);
      METRICS.ingestPointsAccepted.inc(points.length);
    }
    return { written: points.length, errors: errors.slice(0, MAX_ERRORS), refusedLines: errors.length };
  }

  /**
   * The points /api/ingest would accept. Usually all of them, checked in one pass; otherwise each
   * line's points are checked on their own and a line with a refused point is refused whole.
   */
  private refuseInvalid(points: IncomingPoint[], lines: number[], refused: Map<number, string>): IncomingPoint[] {
    if (!points.length || validateIngestBody({ points }).ok) return points;
    const kept: IncomingPoint[] = [];
    for (let start = 0; start < points.length;) {
      let end = start + 1;
      while (end < points.length && lines[end] === lines[start]) end++;
      const linePoints = points.slice(start, end);
      const checked = validateIngestBody({ points: linePoints });
      if (checked.ok) kept.push(...linePoints);
      else refused.set(lines[start], checked.detail.message.replace(/^points\[\d+\]\./, ''));
      start = end;
    }
    return kept;
  }
}
