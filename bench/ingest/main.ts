/**
 * `npm run bench:ingest`: end-to-end ingest throughput of the running stack against its peers.
 *
 * For each scenario the same points (built before any timing) go three ways:
 * - Plexus: pairing, ingest and gateway as separate processes (fresh database and NATS prefix),
 *   POST /api/ingest with N keep-alive clients; timed from the first request until all points are
 *   committed: the ingest consumer has nothing pending or unacknowledged in JetStream (the writer
 *   acks a message only after its transaction commits). A count in PostgreSQL's `points` over the
 *   scenario's own time range then checks it; a count that falls short extends the span until it
 *   is complete.
 * - Plexus, line protocol: the same points as InfluxDB line protocol to POST /api/v2/write
 *   (`source_tag=source_id`; in the sessions scenario the session id travels as a tag), at other
 *   times so they are new points; timed the same way.
 * - InfluxDB 1.x, when `influxd` is installed: a private influxd in a temporary directory (up,
 *   idle, beside the idle Plexus apps while they are measured, and the other way round),
 *   line protocol to /write with the same batch size and client count; timed from the first
 *   request until every request is answered (a 204 means fsynced to its WAL and queryable),
 *   checked the same way by `SELECT count(value)`.
 * - The raw ceiling: `COPY … FROM STDIN (FORMAT binary)` of the same rows into a scratch table
 *   shaped like storage v2's `points` (primary key (series_id, time), BRIN on time); only the
 *   COPY is timed.
 *
 * Every measurement is made BENCH_ROUNDS times (default 3), each round with the scenario's points
 * at their own times (so each round's points are new), and the table shows the median round with
 * the range of all: on a 2-core guest one round of the same configuration swung ±15–25 % (raw COPY
 * alone 457k–787k rows/s within one hour, 2026-12-02), too much for one round to say which side
 * of a ratio a change is on. The peers take turns within a round (Plexus, its line protocol, raw
 * COPY, InfluxDB; the one not measured idle, and the machine quiet before every span), and a ratio
 * is the median of the rounds' own ratios: the machine's speed drifts over minutes, and peers
 * measured minutes apart were measured on different machines.
 *
 * Options (environment): BENCH_POINTS (per scenario, default 300000), BENCH_SCENARIOS
 * (default "1000x8,100x8,1000x8+sessions": batch x clients, "+sessions" = every point carries
 * a session_id and three tags), BENCH_ROUNDS (default 3), BENCH_INFLUXD (path of influxd; "off"
 * skips the peer).
 */
import { cpus, loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { from as copyFrom } from 'pg-copy-streams';
import {
  CHUNK,
  ChunkedCount,
  drive,
  drivePlexus,
  INFLUX_PROCESSES,
  labelling,
  LP_RUN_OFFSET,
  PLEXUS_PROCESSES,
  type Timing,
} from './drive.js';
import { findInfluxd, InfluxPeer } from './influx.js';
import { ProcessCpu, quietMachine } from './process-cpu.js';
import { Platform } from './platform.js';
import {
  binaryCopyChunks,
  lineProtocolBodies,
  parseScenarios,
  plexusBodies,
  type Scenario,
  scenarioName,
  timeRangeMs,
} from './scenarios.js';

const TOTAL = Number(process.env.BENCH_POINTS || 300_000);
const SCENARIOS = parseScenarios(process.env.BENCH_SCENARIOS || '1000x8,100x8,1000x8+sessions');
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 20)
  throw new Error(`BENCH_ROUNDS must be 1 to 20, got "${process.env.BENCH_ROUNDS}"`);
/** Round r of a scenario takes runs r * ROUND_RUN_OFFSET + index (line protocol + LP_RUN_OFFSET): warm-ups use 97–99. */
const ROUND_RUN_OFFSET = 100;
if (SCENARIOS.length > LP_RUN_OFFSET - 4) throw new Error(`BENCH_SCENARIOS: at most ${LP_RUN_OFFSET - 4} scenarios`);
/**
 * Warm-up before any timing, for both peers: first many small requests, then large ones of both
 * shapes (with sessions and tags, and without; the first timed scenario ran ~10 % slower than the
 * same scenario again when only the first shape had been seen). Node
 * compiles a function's optimised code only after many calls, and the request path (HTTP, the
 * router, the broker client) runs once per request: 30 warm-up requests left the JIT compiling
 * it during the timed span (perf: 16–17 % of the gateway's CPU in TurboFan, the gateway at
 * 2.5 µs per point against 1.5 once warm). The large shapes go at a whole default scenario's size
 * (300,000 points each): with 30,000 the ingest writer had hardly run a large transaction before
 * the clock started (transactions of 50,000 points come only under load), and the headline's
 * ingest app took 0.77–0.87 µs a point against 0.27–0.63 after 300,000 (AMD machine, 2026-12-02:
 * headline 0.60–0.65 × COPY against 0.65–0.83). A platform that has run for a minute is warm.
 */
const WARM_UP: Array<{ scenario: Scenario; points: number }> = [
  { scenario: { run: 98, batch: 10, clients: 8, sessions: true }, points: Math.min(TOTAL, 60_000) },
  { scenario: { run: 99, batch: 1000, clients: 8, sessions: true }, points: Math.min(TOTAL, 300_000) },
  { scenario: { run: 97, batch: 1000, clients: 8, sessions: false }, points: Math.min(TOTAL, 300_000) },
];

/** One scenario's measurements, a round each. */
interface Row {
  scenario: Scenario;
  series: number;
  plexus: Timing[];
  plexusLineProtocol: Timing[];
  influx: Timing[];
  /** The raw COPY's own span, a round each. */
  copy: Array<{ seconds: number }>;
}

/** The scenario's shape at round r's own times. */
const inRound = (scenario: Scenario, round: number): Scenario => ({ ...scenario, run: scenario.run + round * ROUND_RUN_OFFSET });
const withLineProtocolTimes = (scenario: Scenario): Scenario => ({ ...scenario, run: scenario.run + LP_RUN_OFFSET });

/** The median round by span (the slower of the middle two when even). */
function medianOf<T extends { seconds: number }>(rounds: T[]): T {
  return [...rounds].sort((a, b) => a.seconds - b.seconds)[Math.floor(rounds.length / 2)];
}
/** Plexus's rate over the peer's, round by round (rounds the peer completed), and the median of those (the lower when even). */
function medianRatio(peer: Array<{ seconds: number }>, plexus: Timing[]): number {
  const ratios = peer.map(({ seconds }, round) => seconds / plexus[round].seconds).sort((a, b) => a - b);
  return ratios[Math.floor((ratios.length - 1) / 2)];
}

async function driveInflux(influx: InfluxPeer, scenario: Scenario, bodies: string[], total: number): Promise<Timing> {
  const db = `bench_${scenario.run}`;
  await influx.createDatabase(db);
  const target = { url: new URL(`${influx.url}/write?db=${db}&precision=ms`), headers: { 'content-type': 'text/plain' }, okStatus: 204 };
  const [fromMs, toMs] = timeRangeMs(scenario, total);
  // Chunks are whole multiples of CHUNK ms from the epoch (every scenario starts on one), as GROUP BY time() cuts them.
  const counter = new ChunkedCount(
    fromMs,
    toMs,
    async (chunkFromMs, chunkToMs) => {
      const byTime = await influx.countByTime(db, chunkFromMs, chunkToMs, CHUNK);
      return new Map([...byTime].map(([timeMs, n]) => [(timeMs - fromMs) / CHUNK, n]));
    },
    (allFromMs, allToMs) => influx.countAll(db, allFromMs, allToMs),
  );
  const pids = new Map<number, string>(influx.pid === undefined ? [] : [[influx.pid, 'influxd']]);
  // InfluxDB answers 204 once the points are in its WAL (fsynced: wal-fsync-delay 0, the default)
  // and its cache, where queries read them: with every request answered, all is committed.
  const store = { committed: async () => true, stored: () => counter.stored() };
  return drive(bodies, scenario.clients, target, total, store, { processes: labelling(pids), order: INFLUX_PROCESSES });
}

/** Raw binary COPY of the scenario's rows into an empty scratch table shaped like v2's `points`; answers seconds. */
async function binaryCopy(db: pg.Pool, chunks: Buffer[]): Promise<number> {
  await db.query('DROP TABLE IF EXISTS points_copy_ceiling');
  await db.query(`CREATE TABLE points_copy_ceiling (
                    series_id integer NOT NULL, time timestamptz NOT NULL,
                    value_num double precision, value_json jsonb,
                    PRIMARY KEY (series_id, time))`);
  await db.query('CREATE INDEX points_copy_ceiling_time_brin ON points_copy_ceiling USING brin (time)');
  const client = await db.connect();
  try {
    if (!(await quietMachine())) console.log('  (the machine was still busy when this COPY started)');
    const started = process.hrtime.bigint();
    await pipeline(Readable.from(chunks), client.query(copyFrom('COPY points_copy_ceiling FROM STDIN (FORMAT binary)')));
    return Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    client.release();
    await db.query('DROP TABLE points_copy_ceiling');
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
/** Every round's own figure goes to the log as it is measured; the table shows the median. */
function logged<T extends { seconds: number }>(measured: T, what = ''): T {
  console.log(`  ${what}${fmt(TOTAL / measured.seconds)} points/s`);
  return measured;
}

const warmUps = WARM_UP.map(({ scenario, points }) => ({
  scenario,
  points,
  plexus: plexusBodies(scenario, points),
  plexusLineProtocol: lineProtocolBodies(withLineProtocolTimes(scenario), points),
  influx: lineProtocolBodies(scenario, points),
}));

// Before anything starts: the bench itself keeps 2 cores busy, so only the load it found says
// whether other work shared the machine (a previous run still counts for a minute or so).
const loadBefore = loadavg();
const rows: Row[] = SCENARIOS.map((scenario) => ({
  scenario,
  series: 0,
  plexus: [],
  plexusLineProtocol: [],
  influx: [],
  copy: [],
}));
let postgresVersion: string;
let influxVersion = 'not run';
const influxd = process.env.BENCH_INFLUXD === 'off' ? undefined : process.env.BENCH_INFLUXD || (await findInfluxd());
if (!influxd) {
  influxVersion =
    process.env.BENCH_INFLUXD === 'off'
      ? 'skipped (BENCH_INFLUXD=off)'
      : 'skipped: no influxd on PATH or at /usr/bin/influxd (Debian: apt-get install influxdb; the bench starts its own, not the service)';
}
/** InfluxDB until it fails: a peer that fails must not lose the Plexus figures, and the table says why. */
let influx: InfluxPeer | undefined;
const influxFailed = (error: unknown) => {
  influxVersion = `${influxVersion === 'not run' ? influxd : influxVersion} — FAILED: ${(error as Error).message.split('\n')[0]}`;
  process.exitCode = 1;
  const failed = influx;
  influx = undefined;
  return failed?.stop().catch(() => undefined);
};
const platform = await Platform.start({ apps: ['pairing', 'ingest', 'gateway'] });
const natsConnection = await connect({ servers: platform.env.NATS_URL as string });
try {
  postgresVersion = (await platform.db.query('SHOW server_version')).rows[0].server_version;
  if (influxd) {
    try {
      influx = await InfluxPeer.start(influxd);
      influxVersion = influx.version;
    } catch (error) {
      await influxFailed(error);
    }
  }
  // Warm up: JIT, connection pools, key cache, session path; the peer the same.
  for (const w of warmUps) {
    await drivePlexus(platform, natsConnection, w.scenario, w.plexus, w.points);
    await drivePlexus(platform, natsConnection, withLineProtocolTimes(w.scenario), w.plexusLineProtocol, w.points, true);
  }
  for (const w of warmUps) {
    // Asked every time: a peer that failed is not driven again (its first reason stays in the table).
    if (influx) await driveInflux(influx, w.scenario, w.influx, w.points).catch(influxFailed);
  }
  // Round by round, each scenario on both peers within seconds of each other: the machine's speed
  // drifts over minutes (the same code's headline gave 616k in one run and 366k in another six
  // minutes later, with InfluxDB 928k and 775k), so a peer measured minutes later is measured on another machine.
  // Whichever is not measured sits idle (its background work is waited out first: quietMachine).
  for (let round = 0; round < ROUNDS; round++) {
    for (const row of rows) {
      // Built per round, before its clock starts (drive() collects the garbage of building first).
      const scenario = inRound(row.scenario, round);
      const name = `${scenarioName(scenario)}, round ${round + 1} of ${ROUNDS}`;
      console.log(`Plexus: ${name}…`);
      row.plexus.push(logged(await drivePlexus(platform, natsConnection, scenario, plexusBodies(scenario, TOTAL), TOTAL)));
      console.log(`Plexus, line protocol: ${name}…`);
      const lineProtocolScenario = withLineProtocolTimes(scenario);
      row.plexusLineProtocol.push(
        logged(
          await drivePlexus(platform, natsConnection, lineProtocolScenario, lineProtocolBodies(lineProtocolScenario, TOTAL), TOTAL, true),
        ),
      );
      const copy = binaryCopyChunks(scenario, TOTAL);
      row.series = copy.series;
      row.copy.push(logged({ seconds: await binaryCopy(platform.db, copy.chunks) }, 'raw binary COPY: '));
      if (influx) {
        console.log(`InfluxDB: ${name}…`);
        const timing = await driveInflux(influx, scenario, lineProtocolBodies(scenario, TOTAL), TOTAL).catch(influxFailed);
        if (timing) row.influx.push(logged(timing));
      }
    }
  }
} finally {
  await influx?.stop();
  await natsConnection.close();
  await platform.stop();
}

console.log(`\nPlexus ingest benchmark — ${TOTAL.toLocaleString('en-US')} points per scenario, ${new Date().toISOString()}`);
console.log(
  `machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), node ${process.version}, PostgreSQL ${postgresVersion}, influxd: ${influxVersion}`,
);
console.log(
  `load average when the bench started (1 / 5 / 15 min): ${loadBefore.map((n) => n.toFixed(1)).join(' / ')}` +
    (loadBefore[0] > cpus().length / 2 ? ' — the machine was already busy: figures may be low and noisy' : ''),
);
console.log(
  "rates: points from the first request until all are committed by the store's own account, checked by a count after; raw COPY: the COPY statement alone. " +
    `Each the median of ${ROUNDS} round(s), [the range of all], in thousands; a ratio is the median of the rounds' ratios, ` +
    "each round's Plexus against the same round's peer, measured within seconds of each other\n",
);
console.log(
  '| scenario | series | Plexus points/s (all accepted after) | Plexus, line protocol | line protocol / JSON | InfluxDB points/s (all accepted after) | Plexus / InfluxDB | raw binary COPY rows/s | Plexus / raw COPY |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
const kilo = (n: number) => Math.round(n / 1000);
const range = (rounds: Array<{ seconds: number }>) => {
  const seconds = rounds.map((round) => round.seconds);
  return seconds.length < 2 ? '' : ` [${kilo(TOTAL / Math.max(...seconds))}–${kilo(TOTAL / Math.min(...seconds))}]`;
};
const rateCell = (timings: Timing[]) => {
  const median = medianOf(timings);
  return `${fmt(TOTAL / median.seconds)} (${median.acceptedSeconds.toFixed(2)} s)${range(timings)}`;
};
for (const row of rows) {
  const plexusRate = TOTAL / medianOf(row.plexus).seconds;
  const lineProtocolRate = TOTAL / medianOf(row.plexusLineProtocol).seconds;
  // Each round's Plexus against the same round's peer (measured within seconds of it), then the median.
  const influxRatio = row.influx.length ? medianRatio(row.influx, row.plexus) : undefined;
  const copyRatio = medianRatio(row.copy, row.plexus);
  console.log(
    `| ${scenarioName(row.scenario)} | ${row.series} | ${rateCell(row.plexus)} | ${rateCell(row.plexusLineProtocol)} | ` +
      `${(lineProtocolRate / plexusRate).toFixed(2)} | ${influxRatio === undefined ? '—' : rateCell(row.influx)} | ` +
      `${influxRatio === undefined ? '—' : influxRatio.toFixed(2)} | ${fmt(TOTAL / medianOf(row.copy).seconds)}${range(row.copy)} | ` +
      `${copyRatio.toFixed(2)} |`,
  );
}

const cpuCells = (timings: Timing[]) => {
  if (!timings.length) return '—';
  const parts = [...medianOf(timings).cpu.values()];
  return `${parts.map((us) => us.toFixed(2)).join(' · ')} = **${parts.reduce((a, b) => a + b, 0).toFixed(2)}**`;
};
if (new ProcessCpu(() => undefined).available) {
  console.log(
    `\nCPU per point over the span of each median round (µs, user + system, from /proc). Plexus: ${PLEXUS_PROCESSES.join(' · ')} ` +
      '(gateway includes pairing; nats-server and PostgreSQL are every such process on the machine, the bench is the load generator ' +
      `and the "all stored?" polling). InfluxDB: ${INFLUX_PROCESSES.join(' · ')}.\n`,
  );
  console.log('| scenario | Plexus JSON | Plexus, line protocol | InfluxDB |');
  console.log('|---|---|---|---|');
  for (const { scenario, plexus, plexusLineProtocol, influx } of rows) {
    console.log(`| ${scenarioName(scenario)} | ${cpuCells(plexus)} | ${cpuCells(plexusLineProtocol)} | ${cpuCells(influx)} |`);
  }
}
