/**
 * `npm run bench:ingest`: end-to-end ingest throughput of the running stack against raw COPY.
 *
 * Starts the platform (pairing, ingest, gateway as separate processes, in a fresh database and
 * NATS prefix), drives POST /api/ingest over HTTP with concurrent clients in batches of 100 and
 * 1000 points, and measures points per second from the first request until the last point is
 * committed in PostgreSQL. Then COPYs the same number of rows into an identical table (same
 * columns and indexes) in the same database and prints both rates and their ratio.
 *
 * Options (environment): BENCH_POINTS (per scenario, default 200000), BENCH_SCENARIOS like
 * "100x8,1000x4" (batch x clients).
 */
import { Agent, request } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Platform } from './platform.js';

const TOTAL = Number(process.env.BENCH_POINTS || 200_000);
const SCENARIOS = (process.env.BENCH_SCENARIOS || '100x8,1000x4').split(',').map((s) => {
  const [batch, clients] = s.split('x').map(Number);
  return { batch, clients };
});

interface Result {
  scenario: string;
  points: number;
  seconds: number;
  pointsPerSecond: number;
  requestsPerSecond: number;
  acceptedSeconds: number;
}

function bodies(run: number, batch: number, total: number): string[] {
  const out: string[] = [];
  const base = 1_700_000_000 + run * 10_000_000;
  for (let start = 0; start < total; start += batch) {
    const points = [];
    for (let i = start; i < Math.min(start + batch, total); i++) {
      points.push({ metric: `m${i % 10}`, value: i * 0.5, timestamp: base + i / 1000, source_id: `bench-${i % 20}`, tags: { rig: 'a' } });
    }
    out.push(JSON.stringify({ points }));
  }
  return out;
}

function post(url: URL, agent: Agent, key: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-api-key': key } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function pointCount(db: pg.Pool, table: string): Promise<number> {
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0].n;
}

async function driveHttp(platform: Platform, run: number, batch: number, clients: number): Promise<Result> {
  const payloads = bodies(run, batch, TOTAL);
  const url = new URL(`${platform.gateway}/api/ingest`);
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const before = await pointCount(platform.db, 'points');
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < payloads.length) {
        const status = await post(url, agent, platform.adminKey, payloads[next++]);
        if (status !== 200) throw new Error(`ingest answered ${status}`);
      }
    }),
  );
  const accepted = Number(process.hrtime.bigint() - started) / 1e9;
  while ((await pointCount(platform.db, 'points')) - before < TOTAL) await new Promise((r) => setTimeout(r, 20));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  return {
    scenario: `HTTP batch ${batch} x ${clients} clients`,
    points: TOTAL,
    seconds,
    pointsPerSecond: TOTAL / seconds,
    requestsPerSecond: payloads.length / seconds,
    acceptedSeconds: accepted,
  };
}

/** Raw COPY of the same rows into a table with the same columns and indexes as points. */
async function rawCopy(db: pg.Pool, run: number): Promise<number> {
  await db.query('DROP TABLE IF EXISTS points_copy_bench');
  await db.query('CREATE TABLE points_copy_bench (LIKE points INCLUDING ALL)');
  const base = 1_700_000_000 + run * 10_000_000;
  let text = '';
  for (let i = 0; i < TOTAL; i++) {
    const time = new Date((base + i / 1000) * 1000).toISOString();
    text += `${time}\tdefault\tbench-${i % 20}\tm${i % 10}\t${i * 0.5}\t\\N\t{"rig": "a"}\t\n`;
  }
  const client = await db.connect();
  try {
    const started = process.hrtime.bigint();
    await pipeline(
      Readable.from([text]),
      client.query(copyFrom('COPY points_copy_bench (time, org_id, source_id, metric, value_num, value_json, tags, session_id) FROM STDIN')),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return TOTAL / seconds;
  } finally {
    client.release();
    await db.query('DROP TABLE points_copy_bench');
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const platform = await Platform.start({ apps: ['pairing', 'ingest', 'gateway'] });
try {
  // Warm up: JIT, connection pools, key cache.
  await driveHttp(platform, 99, 100, 2).catch(() => undefined);
  const results: Result[] = [];
  for (const [index, { batch, clients }] of SCENARIOS.entries()) results.push(await driveHttp(platform, index, batch, clients));
  const copyRate = await rawCopy(platform.db, 50);
  console.log(`\nPlexus ingest benchmark — ${TOTAL.toLocaleString('en-US')} points per scenario, ${new Date().toISOString()}`);
  console.log(`machine: ${(await import('node:os')).cpus().length} cores, node ${process.version}\n`);
  console.log('| scenario | points/s committed | requests/s | all accepted after | all committed after | ratio to raw COPY |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.scenario} | ${fmt(r.pointsPerSecond)} | ${fmt(r.requestsPerSecond)} | ${r.acceptedSeconds.toFixed(2)} s | ${r.seconds.toFixed(2)} s | ${(r.pointsPerSecond / copyRate).toFixed(2)} |`,
    );
  }
  console.log(`| raw COPY into an identical table | ${fmt(copyRate)} rows/s | | | | 1.00 |`);
} finally {
  await platform.stop();
}
