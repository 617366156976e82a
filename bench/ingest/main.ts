/**
 * `npm run bench:ingest`: end-to-end ingest throughput of the running stack against its peers.
 *
 * For each scenario the same points (built before any timing) go three ways:
 * - Plexus: pairing, ingest and gateway as separate processes (fresh database and NATS prefix),
 *   POST /api/ingest with N keep-alive clients; timed from the first request until all points are
 *   committed (counted in PostgreSQL's `points` over the scenario's own time range).
 * - Plexus, line protocol: the same points as InfluxDB line protocol to POST /api/v2/write
 *   (`source_tag=source_id`; in the sessions scenario the session id travels as a tag), at other
 *   times so they are new points; timed the same way.
 * - InfluxDB 1.x, when `influxd` is installed: a private influxd in a temporary directory,
 *   line protocol to /write with the same batch size and client count; timed from the first
 *   request until `SELECT count(value)` sees every point.
 * - The raw ceiling: `COPY … FROM STDIN (FORMAT binary)` of the same rows into a scratch table
 *   shaped like storage v2's `points` (primary key (series_id, time), BRIN on time); only the
 *   COPY is timed.
 *
 * Options (environment): BENCH_POINTS (per scenario, default 300000), BENCH_SCENARIOS
 * (default "1000x8,100x8,1000x8+sessions": batch x clients, "+sessions" = every point carries
 * a session_id and three tags), BENCH_INFLUXD (path of influxd; "off" skips the peer).
 */
import { cpus, loadavg } from 'node:os';
import { Agent, request } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { CONSUMERS } from '../../libs/common/src/subjects.js';
import { from as copyFrom } from 'pg-copy-streams';
import { findInfluxd, InfluxPeer } from './influx.js';
import { perPoint, ProcessCpu } from './process-cpu.js';
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
const WARM_UP: Scenario = { run: 99, batch: 1000, clients: 8, sessions: true };
const WARM_UP_POINTS = Math.min(TOTAL, 30_000);
/** How long "all committed" may take after the last request is accepted before the bench gives up. */
const COMMIT_DEADLINE_MS = 300_000;
const POLL_MS = 20;
/** Points (= milliseconds: one point per ms) per chunk of the "all stored?" count. */
const CHUNK = 10_000;

interface Timing {
  /** First request → every request answered. */
  acceptedSeconds: number;
  /** First request → every point counted where it is stored. */
  seconds: number;
  /** CPU microseconds per point, by process, over the same span. */
  cpu: Map<string, number>;
}

/** Who does the work, in the order printed: what each side runs, and the load generator (this process). */
const PLEXUS_PROCESSES = ['gateway', 'ingest', 'nats-server', 'PostgreSQL', 'bench'];
const INFLUX_PROCESSES = ['influxd', 'bench'];

/** Labels for ProcessCpu: the given app processes by pid, the machine's nats-server and PostgreSQL by name, this process. */
function labelling(pids: Map<number, string>): ProcessCpu {
  return new ProcessCpu((pid, commandLine) => {
    if (pids.has(pid)) return pids.get(pid);
    if (pid === process.pid) return 'bench';
    if (/(^|\/)nats-server /.test(commandLine)) return 'nats-server';
    if (/^postgres(:| )|\/bin\/postgres /.test(commandLine)) return 'PostgreSQL';
    return undefined;
  });
}

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

function post(url: URL, agent: Agent, headers: Record<string, string>, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Sends every body with `clients` concurrent keep-alive connections, then polls `stored()` until
 * it reaches `total`. Both times count from the first request.
 */
async function drive(
  bodies: string[],
  clients: number,
  target: { url: URL; headers: Record<string, string>; okStatus: number },
  total: number,
  stored: () => Promise<number>,
  cpu: { processes: ProcessCpu; order: string[] },
): Promise<Timing> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  // Encoded before the clock starts: the load generator shares the 2 cores with what it measures.
  const payloads = bodies.map((body) => Buffer.from(body));
  let next = 0;
  const cpuBefore = cpu.processes.read();
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
  try {
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < payloads.length) {
          const status = await post(target.url, agent, target.headers, payloads[next++]);
          if (status !== target.okStatus) throw new Error(`${target.url} answered ${status}`);
        }
      }),
    );
    const acceptedSeconds = elapsed();
    const deadline = Date.now() + COMMIT_DEADLINE_MS;
    let seen = 0;
    while ((seen = await stored()) < total) {
      if (Date.now() > deadline)
        throw new Error(`only ${seen} of ${total} points stored ${COMMIT_DEADLINE_MS / 1000} s after the last request`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    if (seen > total) throw new Error(`${seen} points stored, ${total} sent: the count is not of this scenario alone`);
    const seconds = elapsed();
    return { acceptedSeconds, seconds, cpu: perPoint(cpuBefore, cpu.processes.read(), total, cpu.order) };
  } finally {
    agent.destroy();
  }
}

/**
 * "How many of this scenario's points are stored?", cheap enough to ask every 20 ms: counting the
 * whole scenario each time would keep a core busy (up to 300,000 rows per poll, in parallel
 * workers) and slow the system it measures. Points are one per millisecond; the range is cut into
 * chunks of CHUNK ms, and once the leading chunks are complete they are not counted again.
 */
class ChunkedCount {
  private doneMs: number;
  private doneCount = 0;

  /** `countChunks(fromMs, toMs)`: stored points from fromMs (a chunk boundary) to toMs, by chunk index from the scenario's start. */
  constructor(
    private readonly startMs: number,
    private readonly endMs: number,
    private readonly countChunks: (fromMs: number, toMs: number) => Promise<Map<number, number>>,
  ) {
    this.doneMs = startMs;
  }

  async stored(): Promise<number> {
    const counts = await this.countChunks(this.doneMs, this.endMs);
    let total = this.doneCount;
    for (const n of counts.values()) total += n;
    for (;;) {
      const expected = Math.min(CHUNK, this.endMs - this.doneMs);
      if (expected <= 0 || counts.get((this.doneMs - this.startMs) / CHUNK) !== expected) break;
      this.doneCount += expected;
      this.doneMs += expected;
    }
    return total;
  }
}

/** Line protocol bodies for Plexus carry the scenario's points at other times than its JSON bodies. */
const LP_RUN_OFFSET = 50;

async function drivePlexus(platform: Platform, scenario: Scenario, bodies: string[], total: number, lineProtocol = false): Promise<Timing> {
  const [fromMs, toMs] = timeRangeMs(scenario, total);
  // "All committed?" asks JetStream, not PostgreSQL: the writer acks a message only after the
  // transaction holding its points has committed, so once the ingest consumer has nothing
  // pending and nothing unacknowledged, every point is committed. A consumer-info request costs
  // the measured system far less than counting rows every 20 ms. One count in PostgreSQL then
  // confirms every point of the scenario is there (a shortfall is waited for, chunk by chunk).
  const jsm = await jetstreamManager(natsConnection);
  let confirmed = false;
  const counter = new ChunkedCount(fromMs, toMs, async (chunkFromMs, chunkToMs) => {
    const { rows } = await platform.db.query<{ chunk: number; n: number }>(
      `SELECT floor((extract(epoch FROM time) * 1000 - $1 + 0.5) / $2)::int AS chunk, count(*)::int AS n
         FROM points WHERE time >= to_timestamp(($3::float8 - 0.5) / 1000) AND time < to_timestamp(($4::float8 - 0.5) / 1000)
        GROUP BY 1`,
      [fromMs, CHUNK, chunkFromMs, chunkToMs],
    );
    return new Map(rows.map((row) => [row.chunk, row.n]));
  });
  const stored = async () => {
    if (!confirmed) {
      const info = await jsm.consumers.info(platform.streams.telemetry, CONSUMERS.ingestWriter);
      if (info.num_pending > 0 || info.num_ack_pending > 0) return 0;
      confirmed = true;
    }
    return counter.stored();
  };
  const target: { url: URL; headers: Record<string, string>; okStatus: number } = lineProtocol
    ? {
        url: new URL(`${platform.gateway}/api/v2/write?org=bench&bucket=bench&precision=ms&source_tag=source_id`),
        headers: { 'content-type': 'text/plain; charset=utf-8', authorization: `Token ${platform.adminKey}` },
        okStatus: 204,
      }
    : {
        url: new URL(`${platform.gateway}/api/ingest`),
        headers: { 'content-type': 'application/json', 'x-api-key': platform.adminKey },
        okStatus: 200,
      };
  const pids = new Map<number, string>();
  for (const app of ['gateway', 'ingest', 'pairing']) {
    const pid = platform.pidOf(app);
    if (pid !== undefined) pids.set(pid, app === 'pairing' ? 'gateway' : app);
  }
  return drive(bodies, scenario.clients, target, total, stored, { processes: labelling(pids), order: PLEXUS_PROCESSES });
}

async function driveInflux(influx: InfluxPeer, scenario: Scenario, bodies: string[], total: number): Promise<Timing> {
  const db = `bench_${scenario.run}`;
  await influx.createDatabase(db);
  const target = { url: new URL(`${influx.url}/write?db=${db}&precision=ms`), headers: { 'content-type': 'text/plain' }, okStatus: 204 };
  const [fromMs, toMs] = timeRangeMs(scenario, total);
  // Chunks are whole multiples of CHUNK ms from the epoch (every scenario starts on one), as GROUP BY time() cuts them.
  const counter = new ChunkedCount(fromMs, toMs, async (chunkFromMs, chunkToMs) => {
    const byTime = await influx.countByTime(db, chunkFromMs, chunkToMs, CHUNK);
    return new Map([...byTime].map(([timeMs, n]) => [(timeMs - fromMs) / CHUNK, n]));
  });
  const pids = new Map<number, string>(influx.pid === undefined ? [] : [[influx.pid, 'influxd']]);
  return drive(bodies, scenario.clients, target, total, () => counter.stored(), { processes: labelling(pids), order: INFLUX_PROCESSES });
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
const warmUpPlexus = plexusBodies(WARM_UP, WARM_UP_POINTS);
const warmUpInflux = lineProtocolBodies(WARM_UP, WARM_UP_POINTS);

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
  await drivePlexus(platform, WARM_UP, warmUpPlexus, WARM_UP_POINTS);
  await drivePlexus(
    platform,
    { ...WARM_UP, run: WARM_UP.run + LP_RUN_OFFSET },
    lineProtocolBodies({ ...WARM_UP, run: WARM_UP.run + LP_RUN_OFFSET }, WARM_UP_POINTS),
    WARM_UP_POINTS,
    true,
  );
  for (const p of prepared) {
    console.log(`Plexus: ${scenarioName(p.scenario)}…`);
    const plexus = await drivePlexus(platform, p.scenario, p.plexus, TOTAL);
    console.log(`Plexus, line protocol: ${scenarioName(p.scenario)}…`);
    const plexusLineProtocol = await drivePlexus(
      platform,
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
      await driveInflux(influx, WARM_UP, warmUpInflux, WARM_UP_POINTS);
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
console.log('rates: points from the first request until all are stored and countable; raw COPY: the COPY statement alone\n');
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
