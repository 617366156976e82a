/**
 * Driving a load through HTTP and timing it until every point is stored: shared by
 * `bench:ingest` (Plexus and InfluxDB) and `bench:alerts` (Plexus with and without alert rules).
 */
import { Agent, request } from 'node:http';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CONSUMERS } from '../../libs/common/src/subjects.js';
import { perPoint, ProcessCpu, settleGarbage } from './process-cpu.js';
import type { Platform } from './platform.js';
import { type Scenario, timeRangeMs } from './scenarios.js';

/** How long "all committed" may take after the last request is accepted before the bench gives up. */
const COMMIT_DEADLINE_MS = 300_000;
const POLL_MS = 20;
/** Points (= milliseconds: one point per ms) per chunk of the "all stored?" count. */
export const CHUNK = 10_000;

export interface Timing {
  /** First request → every request answered. */
  acceptedSeconds: number;
  /** First request → every point counted where it is stored. */
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

/** One POST on a keep-alive agent; its status code once the answer has been read. */
export function post(url: URL, agent: Agent, headers: Record<string, string>, body: Buffer): Promise<number> {
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
export async function drive(
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
  // The garbage of building every scenario's bodies is collected now, not in the timed span.
  await settleGarbage();
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
  // "All committed?" asks JetStream, not PostgreSQL: the writer acks a message only after the
  // transaction holding its points has committed, so once the ingest consumer has nothing
  // pending and nothing unacknowledged, every point is committed. A consumer-info request costs
  // the measured system far less than counting rows every 20 ms. One count in PostgreSQL then
  // confirms every point of the scenario is there (a shortfall is waited for, chunk by chunk).
  const jsm = await jetstreamManager(natsConnection);
  let confirmed = false;
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
  for (const app of ['gateway', 'ingest', 'pairing', ...(options.apps ?? [])]) {
    const pid = platform.pidOf(app);
    if (pid !== undefined) pids.set(pid, app === 'pairing' ? 'gateway' : app);
  }
  return drive(bodies, scenario.clients, target, total, stored, { processes: labelling(pids), order: options.order ?? PLEXUS_PROCESSES });
}
