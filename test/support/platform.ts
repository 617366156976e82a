import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { bucketStream, bucketsFor, CONSUMERS, namedSubjects, streamsFor, subjectsFor } from '../../libs/common/src/subjects.js';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';
import { APPS, type AppName, appPortVariable, spawnApp, type SpawnedApp, waitUntilReady } from '../../scripts/platform-process.js';

export const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';
export const PG_ROOT = process.env.PLEXUS_TEST_DATABASE_ROOT || 'postgres://postgres@127.0.0.1:5432';

export function randomApiKey(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return `plx_${Array.from(randomBytes(40), (b) => alphabet[b % 62]).join('')}`;
}

export interface PlatformOptions {
  apps?: AppName[];
  natsUrl?: string;
  env?: Record<string, string>;
  /** Another PostgreSQL than PG_ROOT (a private cluster of a fault test), as `postgres://user@host:port`. */
  databaseRoot?: string;
}

/**
 * The whole platform as a user runs it: each app a separate process, in its own database
 * and NATS subject/stream prefix so test files never see each other's data.
 */
export class Platform {
  readonly prefix = `t${randomBytes(5).toString('hex')}`;
  readonly database = `plexus_test_${this.prefix}`;
  /** This platform's NATS subjects and JetStream streams, from the factory the apps use. */
  readonly subjects = subjectsFor(this.prefix);
  readonly streams = streamsFor(this.prefix);
  /** Its key-value buckets (realtime's presence lease and recordings). */
  readonly buckets = bucketsFor(this.prefix);
  private readonly named = namedSubjects(this.prefix);
  readonly adminKey = randomApiKey();
  readonly env: NodeJS.ProcessEnv;
  readonly ports: Record<AppName, number> & Record<string, number>;
  readonly logs: string[] = [];
  private readonly running = new Map<string, SpawnedApp>();
  readonly db: pg.Pool;

  private constructor(
    ports: Record<AppName, number>,
    natsUrl: string,
    extraEnv: Record<string, string>,
    private readonly databaseRoot = PG_ROOT,
  ) {
    this.ports = ports;
    this.env = {
      ...process.env,
      NATS_URL: natsUrl,
      DATABASE_URL: `${databaseRoot}/${this.database}`,
      PLEXUS_NATS_PREFIX: this.prefix,
      PLEXUS_BOOTSTRAP_ADMIN_KEY: this.adminKey,
      GATEWAY_PORT: String(ports.gateway),
      REALTIME_PORT: String(ports.realtime),
      INGEST_HTTP_PORT: String(ports.ingest),
      PAIRING_HTTP_PORT: String(ports.pairing),
      ALERTS_HTTP_PORT: String(ports.alerts),
      ...extraEnv,
    };
    this.db = new pg.Pool({ connectionString: `${databaseRoot}/${this.database}`, max: 2 });
    // An idle client cut off (the database dropped WITH (FORCE) at teardown) must not crash the
    // test process; a failing query still rejects its own promise.
    this.db.on('error', () => undefined);
  }

  static async start(options: PlatformOptions = {}): Promise<Platform> {
    const ports = {} as Record<AppName, number>;
    for (const app of APPS) ports[app] = await freePort();
    const platform = new Platform(ports, options.natsUrl ?? NATS_URL, options.env ?? {}, options.databaseRoot);
    try {
      for (const app of options.apps ?? APPS) await platform.startApp(app);
    } catch (error) {
      await platform.stop();
      throw new Error(`${(error as Error).message}\n${platform.logs.slice(-40).join('\n')}`, { cause: error });
    }
    return platform;
  }

  get gateway(): string {
    return `http://127.0.0.1:${this.ports.gateway}`;
  }

  async startApp(app: AppName): Promise<void> {
    await this.spawn(app, app, this.env, this.ports[app]);
  }

  /**
   * Another copy of an app (say a second realtime instance) under a label, on its own port.
   * Answers the port.
   */
  async startCopy(app: AppName, label: string, extraEnv: Record<string, string> = {}): Promise<number> {
    const port = this.ports[label] ?? (await freePort());
    this.ports[label] = port;
    await this.spawn(app, label, { ...this.env, ...extraEnv, [appPortVariable(app)]: String(port) }, port);
    return port;
  }

  private async spawn(app: AppName, label: string, env: NodeJS.ProcessEnv, port: number): Promise<void> {
    const spawned = spawnApp(app, env, (_, line) => {
      this.logs.push(`${label} | ${line}`);
      if (this.logs.length > 2000) this.logs.splice(0, 1000);
      if (process.env.PLEXUS_TEST_LOGS) process.stdout.write(`${label} | ${line}\n`);
    });
    this.running.set(label, spawned);
    await waitUntilReady(spawned, port, 60_000);
  }

  /** How many points of `metric` a session stored, and the largest gap in seconds between two in a row. */
  async sessionSampling(sessionId: string, metric: string): Promise<{ count: number; largestGap: number }> {
    const { rows } = await this.db.query<{ t: number }>(
      `SELECT extract(epoch FROM time)::float8 AS t FROM telemetry WHERE session_id = $1 AND metric = $2 ORDER BY time`,
      [sessionId, metric],
    );
    const times = rows.map((row) => row.t);
    return { count: times.length, largestGap: Math.max(...times.slice(1).map((t, i) => t - times[i])) };
  }

  /** The process id of an app (or labelled copy) started here, while it runs. */
  pidOf(app: AppName | string): number | undefined {
    return this.running.get(app)?.child.pid;
  }

  /** Whether an app (or labelled copy) started here is still running. */
  alive(app: AppName | string): boolean {
    const spawned = this.running.get(app);
    return spawned !== undefined && spawned.child.exitCode === null && spawned.child.signalCode === null;
  }

  /** Stops one app (or labelled copy) with a signal and waits until the process is gone. */
  async stopApp(app: AppName | string, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const spawned = this.running.get(app);
    if (!spawned) return null;
    this.running.delete(app);
    spawned.child.kill(signal);
    return spawned.exited;
  }

  /** An HTTP call to the gateway with the admin key unless another is given. */
  async api(path: string, init: RequestInit & { key?: string | null } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const key = init.key === undefined ? this.adminKey : init.key;
    if (key) headers.set('x-api-key', key);
    if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
    return fetch(`${this.gateway}${path}`, { ...init, headers });
  }

  /** Pairs a new device with a code made by `key` (the admin key by default): its token, source and org. */
  async pairDevice(name: string, key: string = this.adminKey): Promise<{ device_token: string; source_id: string; org_id: string }> {
    const made = await this.api('/api/sources/pair', { method: 'POST', body: JSON.stringify({ name }), key });
    if (made.status !== 201) throw new Error(`pairing code: ${made.status} ${await made.text()}`);
    const { code } = (await made.json()) as { code: string };
    const paired = await this.api('/api/sources/pair/complete', { method: 'POST', body: JSON.stringify({ code }), key: null });
    if (paired.status !== 200) throw new Error(`pairing: ${paired.status} ${await paired.text()}`);
    return (await paired.json()) as { device_token: string; source_id: string; org_id: string };
  }

  async ingest(points: unknown[], init: { key?: string; headers?: Record<string, string> } = {}): Promise<Response> {
    return this.api('/api/ingest', { method: 'POST', body: JSON.stringify({ points }), ...init });
  }

  async count(sql: string, params: unknown[] = []): Promise<number> {
    const { rows } = await this.db.query(sql, params);
    return Number(Object.values(rows[0])[0]);
  }

  /** A key with the given scopes, stored as the pairing app stores keys (the key API comes with pairing). */
  async createKey(scopes: string[], orgId = 'default'): Promise<string> {
    const { createHash } = await import('node:crypto');
    const key = randomApiKey();
    await this.db.query(`INSERT INTO orgs (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING`, [orgId]);
    await this.db.query(`INSERT INTO api_keys (org_id, name, key_hash, prefix, scopes) VALUES ($1, 'test', $2, $3, $4)`, [
      orgId,
      createHash('sha256').update(key).digest('hex'),
      key.slice(0, 10),
      scopes,
    ]);
    return key;
  }

  /** This platform's subject of that name ('keys.create', 'orgs.list'…); throws for a name that is not one. */
  subject(name: string): string {
    const subject = this.named.get(name);
    if (subject === undefined) throw new Error(`"${name}" is not one of the platform's subjects (libs/common/src/subjects.ts)`);
    return subject;
  }

  /** Resolves once the ingest app has committed and acked every message published so far. */
  async drained(timeoutMs = 30_000): Promise<void> {
    const nc = await connect({ servers: this.env.NATS_URL as string });
    try {
      const jsm = await jetstreamManager(nc);
      let last = 'no consumer info yet';
      await waitFor(
        'the ingest consumer to drain',
        async () => {
          const info = await jsm.consumers.info(this.streams.telemetry, CONSUMERS.ingestWriter);
          last = `pending ${info.num_pending}, ack pending ${info.num_ack_pending}, redelivered ${info.num_redelivered}`;
          return info.num_pending === 0 && info.num_ack_pending === 0;
        },
        timeoutMs,
        () => last,
      );
    } finally {
      await nc.close();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.running.keys()].map((app) => this.stopApp(app)));
    await this.db.end().catch(() => undefined);
    const admin = new pg.Client({ connectionString: `${this.databaseRoot}/postgres` });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(this.database)} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await deleteStreams(this.env.NATS_URL as string, this.prefix);
  }
}

async function deleteStreams(natsUrl: string, prefix: string): Promise<void> {
  const nc = await connect({ servers: natsUrl, timeout: 2000 }).catch(() => undefined);
  if (!nc) return;
  try {
    const jsm = await jetstreamManager(nc);
    const names = [...Object.values(streamsFor(prefix)), ...Object.values(bucketsFor(prefix)).map(bucketStream)];
    for (const name of names) await jsm.streams.delete(name).catch(() => undefined);
  } finally {
    await nc.close();
  }
}
