/**
 * Driving a load through HTTP and timing it until every point is committed: `bench:ingest`'s
 * rounds against Plexus and InfluxDB (bench:alerts shares the load client and the CPU labelling).
 */
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CONSUMERS } from '../../libs/common/src/subjects.js';
import { LoadConnection, postRequest } from './load-client.js';
import { perPoint, ProcessCpu, quietMachine, settleGarbage } from './process-cpu.js';
import type { Platform } from './platform.js';
import { type Scenario, timeRangeMs } from './scenarios.js';

/** How long "all committed" may take after the last request is accepted before the bench gives up. */
const COMMIT_DEADLINE_MS = 300_000;
/** How often the store is asked whether everything is committed (a cheap question: JetStream consumer info). */
const COMMIT_POLL_MS = 5;
/** How often a count that fell short is repeated. */
const COUNT_POLL_MS = 20;
/** Points (= milliseconds: one point per ms) per chunk of the "all stored?" count. */
export const CHUNK = 10_000;

export interface Timing {
  /** First request → every request answered. */
  acceptedSeconds: number;
  /**
   * First request → every point committed, by the store's own account (Store.committed), and
   * found there by a count made after it: the count is the bench checking the store's word, not
   * part of the ingest; only a count that falls short extends the span, until it is complete.
   */
  seconds: number;
  /** CPU microseconds per point, by process, over the same span. */
  cpu: Map<string, number>;
}

/** Who does the work, in the order printed: what each side runs, and the load generator (this process). */
export const PLEXUS_PROCESSES = ['gateway', 'ingest', 'nats-server', 'PostgreSQL', 'bench'];
export const INFLUX_PROCESSES = ['influxd', 'bench'];

/** Labels for ProcessCpu: the given app processes by pid, the machine's nats-server and PostgreSQL by name, this process. */
export function labelling(pids: Map<number, string>): ProcessCpu {
  return new ProcessCpu((pid, commandLine) => {
    if (pids.has(pid)) return pids.get(pid);
    if (pid === process.pid) return 'bench';
    if (/(^|\/)nats-server /.test(commandLine)) return 'nats-server';
    if (/^postgres(:| )|\/bin\/postgres /.test(commandLine)) return 'PostgreSQL';
    return undefined;
  });
}

/** What the bench asks the store under test once every request is answered. */
export interface Store {
  /** Whether every accepted point is committed, by the store's own account (asked until it says so). */
  committed: () => Promise<boolean>;
  /** How many of the scenario's points a query finds (asked until it finds them all). */
  stored: () => Promise<number>;
}

/**
 * Sends every body with `clients` concurrent keep-alive connections, then asks `store.committed()`
 * until it says all is committed and `store.stored()` until it finds `total` points. Both times
 * count from the first request.
 */
export async function drive(
  bodies: string[],
  clients: number,
  target: { url: URL; headers: Record<string, string>; okStatus: number },
  total: number,
  store: Store,
  cpu: { processes: ProcessCpu; order: string[] },
): Promise<Timing> {
  const connections = Array.from({ length: clients }, () => new LoadConnection(target.url));
  // Encoded before the clock starts: the load generator shares the 2 cores with what it measures.
  const requests = bodies.map((body) => postRequest(target.url, target.headers, Buffer.from(body)));
  // The garbage of building every scenario's bodies is collected now, not in the timed span.
  await settleGarbage();
  if (!(await quietMachine())) console.log('  (the machine was still busy when this span started)');
  let next = 0;
  const cpuBefore = cpu.processes.read();
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
  try {
    await Promise.all(
      connections.map(async (connection) => {
        while (next < requests.length) {
          const status = await connection.send(requests[next++]);
          if (status !== target.okStatus) throw new Error(`${target.url} answered ${status}`);
        }
      }),
    );
    const acceptedSeconds = elapsed();
    const deadline = Date.now() + COMMIT_DEADLINE_MS;
    const waitOrGiveUp = async (ms: number, what: () => string) => {
      if (Date.now() > deadline) throw new Error(`${what()} ${COMMIT_DEADLINE_MS / 1000} s after the last request`);
      await new Promise((resolve) => setTimeout(resolve, ms));
    };
    while (!(await store.committed())) await waitOrGiveUp(COMMIT_POLL_MS, () => 'the store did not say all was committed');
    let seconds = elapsed();
    let cpuAfter = cpu.processes.read();
    let seen = await store.stored();
    if (seen < total) {
      // The store's word was early: the span runs on until the count finds every point.
      while ((seen = await store.stored()) < total) await waitOrGiveUp(COUNT_POLL_MS, () => `only ${seen} of ${total} points stored`);
      seconds = elapsed();
      cpuAfter = cpu.processes.read();
    }
    if (seen > total) throw new Error(`${seen} points stored, ${total} sent: the count is not of this scenario alone`);
    return { acceptedSeconds, seconds, cpu: perPoint(cpuBefore, cpuAfter, total, cpu.order) };
  } finally {
    for (const connection of connections) connection.close();
  }
}

/**
 * "How many of this scenario's points are stored?", cheap enough to ask every 20 ms: counting the
 * whole scenario each time would keep a core busy (up to 300,000 rows per poll, in parallel
 * workers) and slow the system it measures. Points are one per millisecond; the range is cut into
 * chunks of CHUNK ms, and once the leading chunks are complete they are not counted again.
 */
export class ChunkedCount {
  private doneMs: number;
  private doneCount = 0;

  /**
   * `countChunks(fromMs, toMs)`: stored points from fromMs (a chunk boundary) to toMs, by chunk index
   * from the scenario's start. `countAll(fromMs, toMs)`, where given: the same points in one number,
   * asked first (one plain count costs the store less than one grouped by chunk); the chunks are
   * counted only when it falls short.
   */
  constructor(
    private readonly startMs: number,
    private readonly endMs: number,
    private readonly countChunks: (fromMs: number, toMs: number) => Promise<Map<number, number>>,
    private readonly countAll?: (fromMs: number, toMs: number) => Promise<number>,
  ) {
    this.doneMs = startMs;
  }

  async stored(): Promise<number> {
    if (this.countAll && (await this.countAll(this.doneMs, this.endMs)) === this.endMs - this.doneMs) {
      this.doneCount += this.endMs - this.doneMs;
      this.doneMs = this.endMs;
      return this.doneCount;
    }
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
export const LP_RUN_OFFSET = 50;

export async function drivePlexus(
  platform: Platform,
  natsConnection: NatsConnection,
  scenario: Scenario,
  bodies: string[],
  total: number,
  lineProtocol = false,
  options: { apps?: string[]; order?: string[] } = {},
): Promise<Timing> {
  const [fromMs, toMs] = timeRangeMs(scenario, total);
  const jsm = await jetstreamManager(natsConnection);
  // date_part, not extract: a float8 per row rather than numeric arithmetic (extract answers numeric).
  const inRange = `time >= to_timestamp(($1::float8 - 0.5) / 1000) AND time < to_timestamp(($2::float8 - 0.5) / 1000)`;
  const counter = new ChunkedCount(
    fromMs,
    toMs,
    async (chunkFromMs, chunkToMs) => {
      const { rows } = await platform.db.query<{ chunk: number; n: number }>(
        `SELECT floor((date_part('epoch', time) * 1000 - $3 + 0.5) / $4)::int AS chunk, count(*)::int AS n
           FROM points WHERE ${inRange} GROUP BY 1`,
        [chunkFromMs, chunkToMs, fromMs, CHUNK],
      );
      return new Map(rows.map((row) => [row.chunk, row.n]));
    },
    async (allFromMs, allToMs) =>
      (await platform.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM points WHERE ${inRange}`, [allFromMs, allToMs])).rows[0].n,
  );
  // "All committed?" asks JetStream, not PostgreSQL: the writer acks a message only after the
  // transaction holding its points has committed, so once the ingest consumer has nothing pending
  // and nothing unacknowledged, every point is committed. One count in PostgreSQL then checks
  // every point of the scenario is there (a shortfall is waited for, chunk by chunk).
  const committed = async () => {
    const info = await jsm.consumers.info(platform.streams.telemetry, CONSUMERS.ingestWriter);
    return info.num_pending === 0 && info.num_ack_pending === 0;
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
  for (const app of ['gateway', 'ingest', 'pairing', ...(options.apps ?? [])]) {
    const pid = platform.pidOf(app);
    if (pid !== undefined) pids.set(pid, app === 'pairing' ? 'gateway' : app);
  }
  return drive(
    bodies,
    scenario.clients,
    target,
    total,
    { committed, stored: () => counter.stored() },
    { processes: labelling(pids), order: options.order ?? PLEXUS_PROCESSES },
  );
}
