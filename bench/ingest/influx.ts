/**
 * InfluxDB 1.x as a peer for the ingest bench: a private `influxd` in a temporary directory, with
 * its own config (data, meta and WAL there; HTTP and the RPC service on free loopback ports;
 * usage reporting, the internal monitor store and every other listener off). Never the system
 * service on 8086.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { access, constants, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../test/support/free-port.js';

const run = promisify(execFile);

/** `influxd` on PATH, else /usr/bin/influxd (Debian's package), else undefined. */
export async function findInfluxd(): Promise<string | undefined> {
  const candidates = [
    ...(process.env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, 'influxd')),
    '/usr/bin/influxd',
  ];
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; next
    }
  }
  return undefined;
}

function config(dir: string, httpPort: number, rpcPort: number): string {
  // Debian's build renamed the top-level `reporting-disabled` to `reporting-enabled`; upstream
  // reads the first. Unknown keys are ignored, so both are set.
  return `reporting-disabled = true
reporting-enabled = false
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false

[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
  pprof-enabled = false
  max-body-size = 0

[ifql]
  enabled = false

[[graphite]]
  enabled = false
[[collectd]]
  enabled = false
[[opentsdb]]
  enabled = false
[[udp]]
  enabled = false
`;
}

export class InfluxPeer {
  private readonly log: string[] = [];

  private constructor(
    readonly dir: string,
    readonly url: string,
    readonly version: string,
    private readonly child: ChildProcess,
    private readonly exited: Promise<unknown>,
  ) {}

  get pid(): number | undefined {
    return this.child.pid;
  }

  static async start(binary: string, timeoutMs = 30_000): Promise<InfluxPeer> {
    const { stdout } = await run(binary, ['version']);
    const version = stdout.trim();
    const dir = await mkdtemp(join(tmpdir(), 'plexus-bench-influx-'));
    const httpPort = await freePort();
    const rpcPort = await freePort();
    const configPath = join(dir, 'influxdb.conf');
    await writeFile(configPath, config(dir, httpPort, rpcPort));
    const child = spawn(binary, ['-config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const peer = new InfluxPeer(dir, `http://127.0.0.1:${httpPort}`, version, child, exited);
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => {
        peer.log.push(text);
        if (peer.log.length > 200) peer.log.splice(0, 100);
      });
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        await rm(dir, { recursive: true, force: true });
        throw new Error(`influxd exited before answering /ping:\n${peer.log.join('').slice(-2000)}`);
      }
      const status = await fetch(`${peer.url}/ping`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 204) return peer;
      if (Date.now() > deadline) {
        await peer.stop();
        throw new Error(`influxd did not answer /ping within ${timeoutMs} ms:\n${peer.log.join('').slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** InfluxQL through /query; answers the parsed JSON and throws on an error in it. */
  async query(q: string, db?: string, method: 'GET' | 'POST' = 'GET'): Promise<InfluxAnswer> {
    const params = new URLSearchParams({ q });
    if (db) params.set('db', db);
    const response = await fetch(`${this.url}/query?${params}`, { method });
    const answer = (await response.json()) as InfluxAnswer;
    const error = answer.error ?? answer.results?.find((r) => r.error)?.error;
    if (!response.ok || error) throw new Error(`influxd /query "${q}": ${response.status} ${error ?? ''}`);
    return answer;
  }

  async createDatabase(name: string): Promise<void> {
    await this.query(`CREATE DATABASE "${name}"`, undefined, 'POST');
  }

  /** Points stored from fromMs to toMs, by GROUP BY time(everyMs) bucket start (Unix ms), summed over measurements. */
  async countByTime(db: string, fromMs: number, toMs: number, everyMs: number): Promise<Map<number, number>> {
    const counts = new Map<number, number>();
    for (const [time, n] of await this.count(db, fromMs, toMs, ` GROUP BY time(${everyMs}ms)`))
      counts.set(time, (counts.get(time) ?? 0) + n);
    return counts;
  }

  /** Points stored from fromMs to toMs, in one number (one count per measurement, summed). */
  async countAll(db: string, fromMs: number, toMs: number): Promise<number> {
    let total = 0;
    for (const [, n] of await this.count(db, fromMs, toMs, '')) total += n;
    return total;
  }

  /** [time, count] rows of every measurement. */
  private async count(db: string, fromMs: number, toMs: number, groupBy: string): Promise<Array<[number, number]>> {
    const params = new URLSearchParams({
      db,
      epoch: 'ms',
      q: `SELECT count(value) FROM /.*/ WHERE time >= ${fromMs}ms AND time < ${toMs}ms${groupBy}`,
    });
    const response = await fetch(`${this.url}/query?${params}`);
    const answer = (await response.json()) as InfluxAnswer;
    const error = answer.error ?? answer.results?.find((r) => r.error)?.error;
    if (!response.ok || error) throw new Error(`influxd count: ${response.status} ${error ?? ''}`);
    return (answer.results?.[0]?.series ?? []).flatMap((series) =>
      series.values.map(([time, n]): [number, number] => [Number(time), Number(n ?? 0)]),
    );
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const killed = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(killed);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

interface InfluxAnswer {
  error?: string;
  results?: { error?: string; series?: { name: string; columns: string[]; values: unknown[][] }[] }[];
}
