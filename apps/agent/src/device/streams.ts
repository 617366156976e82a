import type { SensorReading } from '../sensors/base-sensor.js';

export interface TelemetryPoint {
  metric: string;
  value: SensorReading['value'];
  timestamp: number;
  tags?: Record<string, string | number | boolean>;
}

const MAX_BUFFERED = 10_000;

/**
 * Which metrics a stream or session wants. The dashboard may write them as
 * "source_id:metric" (the Python agent's form) or plain; none means all.
 */
export class MetricFilter {
  private readonly wanted: Set<string> | null;

  constructor(metrics: unknown, sourceId: string) {
    const list = Array.isArray(metrics) ? metrics.filter((m): m is string => typeof m === 'string') : [];
    this.wanted = list.length
      ? new Set(list.map((metric) => (metric.startsWith(`${sourceId}:`) ? metric.slice(sourceId.length + 1) : metric)))
      : null;
  }

  accepts(metric: string): boolean {
    return this.wanted === null || this.wanted.has(metric);
  }
}

/** Readings gathered between two sends of a stream or session, bounded (oldest dropped). */
export class PointBuffer {
  private points: TelemetryPoint[] = [];

  constructor(private readonly filter: MetricFilter) {}

  add(readings: SensorReading[], tags?: Record<string, string>): void {
    for (const reading of readings) {
      if (!this.filter.accepts(reading.metric)) continue;
      this.points.push({
        metric: reading.metric,
        value: reading.value,
        timestamp: reading.timestamp ?? Date.now(),
        ...(reading.tags || tags ? { tags: { ...reading.tags, ...tags } } : {}),
      });
    }
    if (this.points.length > MAX_BUFFERED) this.points.splice(0, this.points.length - MAX_BUFFERED);
  }

  take(): TelemetryPoint[] {
    const taken = this.points;
    this.points = [];
    return taken;
  }
}
