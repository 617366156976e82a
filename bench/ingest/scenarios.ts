/**
 * The points each ingest scenario sends, in the three forms the bench drives: Plexus JSON bodies
 * (POST /api/ingest), InfluxDB line protocol bodies (POST /write), and storage v2 `points` rows
 * for the raw binary COPY ceiling. All three carry the same points, built before any timing.
 */
import { encodeNarrowRows, type NarrowRow } from './binary-copy.js';

export interface Scenario {
  /** Distinct per scenario, so each scenario's points occupy their own time range. */
  run: number;
  batch: number;
  clients: number;
  /** Every point carries a session_id and several tags. */
  sessions: boolean;
}

export interface BenchPoint {
  metric: string;
  value: number;
  /** Unix milliseconds (integer): exact in every form. */
  timeMs: number;
  source_id: string;
  tags: Record<string, string>;
  session_id?: string;
}

/** Scenarios like "1000x8,100x8,1000x8+sessions" (batch x clients, optionally with sessions). */
export function parseScenarios(text: string): Scenario[] {
  return text.split(',').map((spec, run) => {
    const match = /^(\d+)x(\d+)(\+sessions)?$/.exec(spec.trim());
    if (!match) throw new Error(`BENCH_SCENARIOS: "${spec}" is not like 1000x8 or 1000x8+sessions`);
    return { run, batch: Number(match[1]), clients: Number(match[2]), sessions: match[3] !== undefined };
  });
}

export function scenarioName(scenario: Scenario): string {
  return `batch ${scenario.batch} × ${scenario.clients} clients${scenario.sessions ? ', session_id + 3 tags' : ''}`;
}

/** First and last-plus-one Unix millisecond of a scenario's points. */
export function timeRangeMs(scenario: Scenario, total: number): [number, number] {
  const base = (1_700_000_000 + scenario.run * 10_000_000) * 1000;
  return [base, base + total];
}

export function pointAt(scenario: Scenario, i: number, total: number): BenchPoint {
  const [base] = timeRangeMs(scenario, total);
  const source = i % 20;
  const point: BenchPoint = {
    metric: `m${i % 10}`,
    value: i * 0.5,
    timeMs: base + i,
    source_id: `bench-${source}`,
    tags: scenario.sessions ? { rig: 'a', site: 'lab-3', firmware: `2.4.${source % 3}` } : { rig: 'a' },
  };
  if (scenario.sessions) point.session_id = `run-${scenario.run}-${i % 8}`;
  return point;
}

function points(scenario: Scenario, total: number): BenchPoint[] {
  return Array.from({ length: total }, (_, i) => pointAt(scenario, i, total));
}

function batches<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

export function plexusBodies(scenario: Scenario, total: number): string[] {
  return batches(points(scenario, total), scenario.batch).map((batch) =>
    JSON.stringify({
      points: batch.map((p) => ({
        metric: p.metric,
        value: p.value,
        timestamp: p.timeMs / 1000,
        source_id: p.source_id,
        tags: p.tags,
        ...(p.session_id === undefined ? {} : { session_id: p.session_id }),
      })),
    }),
  );
}

/** Line protocol escaping of measurement names, tag keys and tag values (commas, spaces, '='). */
const escapeName = (text: string) => text.replace(/[,= \\]/g, (c) => `\\${c}`);

/** One line per point: measurement = metric, tags = source_id, session_id, the point's tags (sorted, as InfluxDB prefers). */
export function lineProtocolBodies(scenario: Scenario, total: number): string[] {
  return batches(points(scenario, total), scenario.batch).map((batch) => {
    let body = '';
    for (const p of batch) {
      const tags: Record<string, string> = { ...p.tags, source_id: p.source_id };
      if (p.session_id !== undefined) tags.session_id = p.session_id;
      const tagText = Object.keys(tags)
        .sort()
        .map((key) => `,${escapeName(key)}=${escapeName(tags[key])}`)
        .join('');
      body += `${escapeName(p.metric)}${tagText} value=${p.value} ${p.timeMs}\n`;
    }
    return body;
  });
}

/**
 * The same points as rows of storage v2's `points`, series ids assigned as the writer would
 * (one per org, source, metric, session, tags), binary-encoded in ~1 MiB chunks.
 */
export function binaryCopyChunks(scenario: Scenario, total: number): { chunks: Buffer[]; series: number } {
  const seriesIds = new Map<string, number>();
  const rows = points(scenario, total).map((p): NarrowRow => {
    const key = `${p.source_id}\u0000${p.metric}\u0000${p.session_id ?? ''}\u0000${JSON.stringify(p.tags)}`;
    let seriesId = seriesIds.get(key);
    if (seriesId === undefined) seriesIds.set(key, (seriesId = seriesIds.size + 1));
    return { seriesId, timeUs: p.timeMs * 1000, valueNum: p.value, valueJson: null };
  });
  return { chunks: [...encodeNarrowRows(rows)], series: seriesIds.size };
}
