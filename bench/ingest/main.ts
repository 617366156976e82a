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
 * - InfluxDB 1.x, when `influxd` is installed: a private influxd in a temporary directory,
 *   line protocol to /write with the same batch size and client count; timed from the first
 *   request until every request is answered (a 204 means fsynced to its WAL and queryable),
 *   checked the same way by `SELECT count(value)`.
 * - The raw ceiling: `COPY … FROM STDIN (FORMAT binary)` of the same rows into a scratch table
 *   shaped like storage v2's `points` (primary key (series_id, time), BRIN on time); only the
 *   COPY is timed.
 *
 * Options (environment): BENCH_POINTS (per scenario, default 300000), BENCH_SCENARIOS
 * (default "1000x8,100x8,1000x8+sessions": batch x clients, "+sessions" = every point carries
 * a session_id and three tags), BENCH_INFLUXD (path of influxd; "off" skips the peer).
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
import { ProcessCpu } from './process-cpu.js';
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

interface Prepared {
  scenario: Scenario;
  plexus: string[];
  lineProtocol: string[];
  /** The scenario's points at other times (run + LP_RUN_OFFSET), as line protocol for Plexus. */
  plexusLineProtocol: string[];
  copy: { chunks: Buffer[]; series: number };
}

interface Row {
  prepared: Prepared;
  plexus: Timing;
  plexusLineProtocol: Timing;
  influx?: Timing;
  copySeconds: number;
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
    const started = process.hrtime.bigint();
    await pipeline(Readable.from(chunks), client.query(copyFrom('COPY points_copy_ceiling FROM STDIN (FORMAT binary)')));
    return Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    client.release();
    await db.query('DROP TABLE points_copy_ceiling');
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

console.log(`building ${SCENARIOS.length} × ${TOTAL.toLocaleString('en-US')} points as JSON, line protocol and binary COPY rows…`);
const prepared: Prepared[] = SCENARIOS.map((scenario) => ({
  scenario,
  plexus: plexusBodies(scenario, TOTAL),
  lineProtocol: lineProtocolBodies(scenario, TOTAL),
  plexusLineProtocol: lineProtocolBodies({ ...scenario, run: scenario.run + LP_RUN_OFFSET }, TOTAL),
  copy: binaryCopyChunks(scenario, TOTAL),
}));
const warmUps = WARM_UP.map(({ scenario, points }) => ({
  scenario,
  points,
  plexus: plexusBodies(scenario, points),
  plexusLineProtocol: lineProtocolBodies({ ...scenario, run: scenario.run + LP_RUN_OFFSET }, points),
  influx: lineProtocolBodies(scenario, points),
}));

// Before anything starts: the bench itself keeps 2 cores busy, so only the load it found says
// whether other work shared the machine (a previous run still counts for a minute or so).
const loadBefore = loadavg();
const rows: Row[] = [];
let postgresVersion: string;
const platform = await Platform.start({ apps: ['pairing', 'ingest', 'gateway'] });
const natsConnection = await connect({ servers: platform.env.NATS_URL as string });
try {
  postgresVersion = (await platform.db.query('SHOW server_version')).rows[0].server_version;
  // Warm up: JIT, connection pools, key cache, session path.
  for (const w of warmUps) {
    await drivePlexus(platform, natsConnection, w.scenario, w.plexus, w.points);
    await drivePlexus(
      platform,
      natsConnection,
      { ...w.scenario, run: w.scenario.run + LP_RUN_OFFSET },
      w.plexusLineProtocol,
      w.points,
      true,
    );
  }
  for (const p of prepared) {
    console.log(`Plexus: ${scenarioName(p.scenario)}…`);
    const plexus = await drivePlexus(platform, natsConnection, p.scenario, p.plexus, TOTAL);
    console.log(`Plexus, line protocol: ${scenarioName(p.scenario)}…`);
    const plexusLineProtocol = await drivePlexus(
      platform,
      natsConnection,
      { ...p.scenario, run: p.scenario.run + LP_RUN_OFFSET },
      p.plexusLineProtocol,
      TOTAL,
      true,
    );
    const copySeconds = await binaryCopy(platform.db, p.copy.chunks);
    rows.push({ prepared: p, plexus, plexusLineProtocol, copySeconds });
  }
} finally {
  await natsConnection.close();
  await platform.stop();
}

let influxVersion = 'not run';
const influxd = process.env.BENCH_INFLUXD === 'off' ? undefined : process.env.BENCH_INFLUXD || (await findInfluxd());
if (!influxd) {
  influxVersion =
    process.env.BENCH_INFLUXD === 'off'
      ? 'skipped (BENCH_INFLUXD=off)'
      : 'skipped: no influxd on PATH or at /usr/bin/influxd (Debian: apt-get install influxdb; the bench starts its own, not the service)';
} else {
  // A peer that fails must not lose the Plexus figures already measured: the table says why.
  try {
    const influx = await InfluxPeer.start(influxd);
    influxVersion = influx.version;
    try {
      for (const w of warmUps) await driveInflux(influx, w.scenario, w.influx, w.points);
      for (const [index, p] of prepared.entries()) {
        console.log(`InfluxDB: ${scenarioName(p.scenario)}…`);
        rows[index].influx = await driveInflux(influx, p.scenario, p.lineProtocol, TOTAL);
      }
    } finally {
      await influx.stop();
    }
  } catch (error) {
    influxVersion = `${influxVersion === 'not run' ? influxd : influxVersion} — FAILED: ${(error as Error).message.split('\n')[0]}`;
    process.exitCode = 1;
  }
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
  "rates: points from the first request until all are committed by the store's own account, checked by a count after; raw COPY: the COPY statement alone\n",
);
console.log(
  '| scenario | series | Plexus points/s (all accepted after) | Plexus, line protocol | line protocol / JSON | InfluxDB points/s (all accepted after) | Plexus / InfluxDB | raw binary COPY rows/s | Plexus / raw COPY |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const { prepared: p, plexus, plexusLineProtocol, influx, copySeconds } of rows) {
  const lineProtocolRate = TOTAL / plexusLineProtocol.seconds;
  const plexusRate = TOTAL / plexus.seconds;
  const influxRate = influx ? TOTAL / influx.seconds : undefined;
  const copyRate = TOTAL / copySeconds;
  console.log(
    `| ${scenarioName(p.scenario)} | ${p.copy.series} | ${fmt(plexusRate)} (${plexus.acceptedSeconds.toFixed(2)} s) | ` +
      `${fmt(lineProtocolRate)} (${plexusLineProtocol.acceptedSeconds.toFixed(2)} s) | ${(lineProtocolRate / plexusRate).toFixed(2)} | ` +
      `${influxRate === undefined || !influx ? '—' : `${fmt(influxRate)} (${influx.acceptedSeconds.toFixed(2)} s)`} | ` +
      `${influxRate === undefined ? '—' : (plexusRate / influxRate).toFixed(2)} | ${fmt(copyRate)} | ${(plexusRate / copyRate).toFixed(2)} |`,
  );
}

const cpuCells = (timing: Timing | undefined) => {
  if (!timing) return '—';
  const parts = [...timing.cpu.values()];
  return `${parts.map((us) => us.toFixed(2)).join(' · ')} = **${parts.reduce((a, b) => a + b, 0).toFixed(2)}**`;
};
if (new ProcessCpu(() => undefined).available) {
  console.log(
    `\nCPU per point over the same spans (µs, user + system, from /proc). Plexus: ${PLEXUS_PROCESSES.join(' · ')} ` +
      '(gateway includes pairing; nats-server and PostgreSQL are every such process on the machine, the bench is the load generator ' +
      `and the "all stored?" polling). InfluxDB: ${INFLUX_PROCESSES.join(' · ')}.\n`,
  );
  console.log('| scenario | Plexus JSON | Plexus, line protocol | InfluxDB |');
  console.log('|---|---|---|---|');
  for (const { prepared: p, plexus, plexusLineProtocol, influx } of rows) {
    console.log(`| ${scenarioName(p.scenario)} | ${cpuCells(plexus)} | ${cpuCells(plexusLineProtocol)} | ${cpuCells(influx)} |`);
  }
}
