/**
 * Line protocol parser micro-benchmark: `npx tsc -p tsconfig.build.json && node dist/bench/line-protocol/main.js`.
 *
 * Builds the same points as JSON ingest bodies of 1000 points and as line protocol bodies of
 * 1000 lines, then measures, in one process and on one core, points per second for
 *   JSON.parse + validateIngestBody        (what POST /api/ingest does with a body)
 *   parseLineProtocol + validateIngestBody (what the InfluxDB write endpoints do)
 * and each step alone. Rounds after a warm-up, the variants interleaved; medians printed.
 *
 * Scenarios: Telegraf-shaped lines with two fields (`cpu,host=rig-1,region=a usage_user=12.5,
 * usage_system=3.1 1700000000000000000`, so 2000 points per 1000-line body), and one field per
 * line named `value` (Home Assistant's shape, 1000 points per body).
 *
 * Options (environment): BENCH_POINTS (default 300000), BENCH_ROUNDS (default 9), BENCH_SCENARIOS
 * (indexes in order, default "0,1"; one scenario alone shows its rate without the other's JIT history).
 */
import type { IncomingPoint } from '../../libs/common/src/messages/telemetry.js';
import { validateIngestBody } from '../../libs/common/src/telemetry/ingest-schema.js';
import { parseLineProtocol } from '../../libs/common/src/telemetry/line-protocol.js';

const TOTAL = Number(process.env.BENCH_POINTS || 300_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 9);
const LINES_PER_BODY = 1000;
const POINTS_PER_JSON_BODY = 1000;

interface Scenario {
  name: string;
  fieldsPerLine: number;
  line(i: number): string;
  points(i: number): IncomingPoint[];
}

function timeOf(i: number): { ns: bigint; seconds: number } {
  // 10 ms apart, with a microsecond part, so timestamps are not all alike.
  const micros = 1_700_000_000_000_000 + i * 10_000 + (i % 1000);
  return { ns: BigInt(micros) * 1000n, seconds: micros / 1e6 };
}

const scenarios: Scenario[] = [
  {
    name: 'telegraf cpu, 2 fields/line',
    fieldsPerLine: 2,
    line(i) {
      const user = ((i * 37) % 10000) / 100;
      const system = ((i * 11) % 1000) / 100;
      return `cpu,host=rig-${i % 50},region=${i % 2 ? 'a' : 'b'} usage_user=${user},usage_system=${system} ${timeOf(i).ns}`;
    },
    points(i) {
      const source = `rig-${i % 50}`;
      const tags = { region: i % 2 ? 'a' : 'b' };
      const timestamp = timeOf(i).seconds;
      return [
        { metric: 'cpu.usage_user', value: ((i * 37) % 10000) / 100, source_id: source, tags, timestamp },
        { metric: 'cpu.usage_system', value: ((i * 11) % 1000) / 100, source_id: source, tags, timestamp },
      ];
    },
  },
  {
    name: 'one value/line',
    fieldsPerLine: 1,
    line(i) {
      return `temperature,host=rig-${i % 50} value=${((i * 37) % 10000) / 100} ${timeOf(i).ns}`;
    },
    points(i) {
      return [{ metric: 'temperature', value: ((i * 37) % 10000) / 100, source_id: `rig-${i % 50}`, timestamp: timeOf(i).seconds }];
    },
  },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Runs the variants in turn, round after round, so that noise from the shared machine hits all alike. */
function measure(variants: (() => number)[]): number[][] {
  const rates: number[][] = variants.map(() => []);
  for (let round = 0; round <= ROUNDS; round++) {
    variants.forEach((run, v) => {
      const started = process.hrtime.bigint();
      const points = run();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (round > 0) rates[v].push(points / seconds); // round 0 warms up
    });
  }
  return rates;
}

function format(rate: number): string {
  return `${(rate / 1000).toFixed(0).padStart(6)}k points/s`;
}

const only = process.env.BENCH_SCENARIOS?.split(',');
for (const scenario of only ? only.map((index) => scenarios[Number(index)]) : scenarios) {
  const lineCount = TOTAL / scenario.fieldsPerLine;
  const lpBodies: string[] = [];
  for (let start = 0; start < lineCount; start += LINES_PER_BODY) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(start + LINES_PER_BODY, lineCount); i++) lines.push(scenario.line(i));
    lpBodies.push(lines.join('\n'));
  }
  const allPoints: IncomingPoint[] = [];
  for (let i = 0; i < lineCount; i++) allPoints.push(...scenario.points(i));
  const jsonBodies: string[] = [];
  for (let start = 0; start < allPoints.length; start += POINTS_PER_JSON_BODY) {
    jsonBodies.push(JSON.stringify({ points: allPoints.slice(start, start + POINTS_PER_JSON_BODY) }));
  }

  // Same points either way: checked once before timing.
  const fromLp = lpBodies.flatMap((body) => parseLineProtocol(body, { precision: 'ns' }).points);
  if (JSON.stringify(fromLp) !== JSON.stringify(allPoints)) throw new Error(`${scenario.name}: line protocol and JSON bodies differ`);

  const jsonFull = () => {
    let n = 0;
    for (const body of jsonBodies) {
      const result = validateIngestBody(JSON.parse(body));
      if (!result.ok) throw new Error(result.detail.message);
      n += result.points.length;
    }
    return n;
  };
  const lpFull = () => {
    let n = 0;
    for (const body of lpBodies) {
      const parsed = parseLineProtocol(body, { precision: 'ns' });
      if (parsed.errors.length > 0) throw new Error(parsed.errors[0].message);
      const result = validateIngestBody({ points: parsed.points });
      if (!result.ok) throw new Error(result.detail.message);
      n += result.points.length;
    }
    return n;
  };
  const jsonParseOnly = () => {
    let n = 0;
    for (const body of jsonBodies) n += (JSON.parse(body) as { points: unknown[] }).points.length;
    return n;
  };
  const lpParseOnly = () => {
    let n = 0;
    for (const body of lpBodies) n += parseLineProtocol(body, { precision: 'ns' }).points.length;
    return n;
  };

  const [jsonFullRates, lpFullRates, jsonParseRates, lpParseRates] = measure([jsonFull, lpFull, jsonParseOnly, lpParseOnly]);
  const bytes = (bodies: string[]) => (bodies.reduce((sum, b) => sum + Buffer.byteLength(b), 0) / allPoints.length).toFixed(0);
  console.log(
    `\n${scenario.name}: ${allPoints.length} points; JSON ${jsonBodies.length} bodies of ${POINTS_PER_JSON_BODY} points (${bytes(jsonBodies)} B/point), line protocol ${lpBodies.length} bodies of ${LINES_PER_BODY} lines (${bytes(lpBodies)} B/point); medians of ${ROUNDS} rounds`,
  );
  console.log(`  JSON.parse + validateIngestBody         ${format(median(jsonFullRates))}`);
  console.log(
    `  parseLineProtocol + validateIngestBody  ${format(median(lpFullRates))}   (${(median(lpFullRates) / median(jsonFullRates)).toFixed(2)}× JSON)`,
  );
  console.log(`  JSON.parse alone                        ${format(median(jsonParseRates))}`);
  console.log(
    `  parseLineProtocol alone                 ${format(median(lpParseRates))}   (${(median(lpParseRates) / median(jsonParseRates)).toFixed(2)}× JSON.parse)`,
  );
}
