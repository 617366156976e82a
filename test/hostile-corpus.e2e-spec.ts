import { request as httpRequest } from 'node:http';
import { connect as netConnect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { WebSocket } from 'ws';
import {
  HOSTILE_STRINGS,
  hostileQueryValue,
  hostileSegment,
  mutateJson,
  mutateText,
  pick,
  type Random,
  seededRandom,
} from './support/hostile.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';

/**
 * The hostile-input tier: thousands of malformed HTTP requests and WebSocket frames, made by
 * seeded mutation of valid ones, against the whole platform. Nothing may answer 5xx, every refusal
 * carries an error code, no handler may meet an error it did not expect, no process may die, and
 * nothing that was acknowledged may be dropped on the way to the database.
 */
const SEED = Number(process.env.PLEXUS_FUZZ_SEED ?? 20261201);
const HTTP_REQUESTS = Number(process.env.PLEXUS_FUZZ_HTTP ?? 3000);
const WS_FRAMES = Number(process.env.PLEXUS_FUZZ_FRAMES ?? 2000);

let platform: Platform;
const keys: Record<'admin' | 'write' | 'read' | 'control', string> = { admin: '', write: '', read: '', control: '' };
/**
 * A fresh connection per request (`agent: false`): a pooled socket handed to a queued request as
 * the server closes it would read as a failure of that request rather than of the one before it.
 */

beforeAll(async () => {
  platform = await Platform.start({
    env: {
      PLEXUS_WS_BROWSER_RATE: '100000',
      PLEXUS_WS_BROWSER_BURST: '100000',
      PLEXUS_WS_DEVICE_RATE: '100000',
      PLEXUS_WS_DEVICE_BURST: '100000',
    },
  });
  keys.admin = platform.adminKey;
  keys.write = await platform.createKey(['write']);
  keys.read = await platform.createKey(['read']);
  keys.control = await platform.createKey(['control']);
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

interface Answer {
  status: number;
  body: string;
}

function send(port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (text.length < 2000) text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    // A connection the server closes on purpose (a bad request line, a timeout) is an answer too.
    req.on('error', (error) => resolve({ status: -1, body: error.message }));
    req.end(body);
  });
}

type Scope = keyof typeof keys | 'none';

interface Endpoint {
  method: string;
  /** `{id}` is replaced by a valid or a hostile path segment. */
  path: string;
  scope: Scope;
  valid?: (n: number) => unknown;
  /** A valid text body (line protocol), mutated as text. */
  validText?: (n: number) => string;
  query?: Record<string, string>;
  /** Answers errors in InfluxDB's shapes (`{"code":"invalid"}`, `{"error"}`), not Plexus's. */
  influx?: boolean;
}

const ENDPOINTS: Endpoint[] = [
  {
    method: 'POST',
    path: '/api/ingest',
    scope: 'write',
    valid: (n) => ({
      points: [
        {
          metric: 'temperature',
          value: 21.5,
          timestamp: 1700000000 + n,
          source_id: `fuzz-${n}`,
          tags: { room: 'lab' },
          session_id: 'fuzz-session',
        },
        { metric: 'state', value: { mode: 'auto', levels: [1, 2, 3] }, source_id: `fuzz-${n}` },
        { metric: 'label', value: 'ok', timestamp: 1700000000123, source_id: `fuzz-${n}` },
      ],
    }),
  },
  {
    method: 'POST',
    path: '/api/sessions',
    scope: 'write',
    valid: (n) => ({
      session_id: `fuzz-s-${n}`,
      name: 'Run',
      source_id: 'fuzz-1',
      status: 'active',
      tags: { a: 1 },
      metadata: { operator: 'x' },
    }),
  },
  {
    method: 'PATCH',
    path: '/api/sessions/{id}',
    scope: 'write',
    valid: () => ({ status: 'completed', ended_at: '2026-01-01T00:00:00Z', name: 'n', tags: { b: 2 } }),
  },
  { method: 'GET', path: '/api/sessions', scope: 'read', query: { source_id: 'fuzz-1', status: 'active', limit: '10', cursor: 'abc' } },
  {
    method: 'POST',
    path: '/api/v2/write',
    scope: 'write',
    query: { org: 'o', bucket: 'fuzz-bucket', precision: 'ns', source_tag: 'host' },
    validText: (n) =>
      `weather,host=fuzz-lp-${n},room=lab temp=21.5,count=3i,ok=true,state="open \\"x\\"" ${1_700_000_000_000_000_000n + BigInt(n)}\ncpu,host=fuzz-lp-${n} value=1.5`,
    influx: true,
  },
  {
    method: 'POST',
    path: '/write',
    scope: 'write',
    query: { db: 'fuzz-db', precision: 's' },
    validText: (n) => `mem,host=fuzz-v1-${n} used=41.2,free=123u ${1_700_000_000 + n}`,
    influx: true,
  },
  { method: 'GET', path: '/api/sessions/{id}', scope: 'read' },
  { method: 'GET', path: '/api/sessions/{id}/export', scope: 'read', query: { format: 'csv' } },
  {
    method: 'GET',
    path: '/api/query',
    scope: 'read',
    query: {
      source_id: 'fuzz-1',
      metric: 'temperature',
      from: '2023-11-14T00:00:00Z',
      to: '1700003600',
      bucket: '1m',
      agg: 'avg',
      limit: '100',
    },
  },
  { method: 'GET', path: '/api/sources', scope: 'read' },
  { method: 'DELETE', path: '/api/sources/{id}', scope: 'admin' },
  { method: 'POST', path: '/api/sources/pair', scope: 'admin', valid: () => ({ name: 'bench rig' }) },
  { method: 'GET', path: '/api/sources/pair', scope: 'admin', query: { code: 'ABC234' } },
  {
    method: 'POST',
    path: '/api/sources/pair/complete',
    scope: 'none',
    valid: () => ({ code: 'ABC234', source_id: 'dev-1', name: 'Pi', platform: 'Linux' }),
  },
  { method: 'GET', path: '/api/auth/verify-key', scope: 'read' },
  { method: 'POST', path: '/api/auth/verify-device', scope: 'none', valid: () => ({ device_token: `plxd_${'a'.repeat(40)}` }) },
  { method: 'POST', path: '/api/keys', scope: 'admin', valid: () => ({ name: 'fuzz key', scopes: ['read'] }) },
  { method: 'GET', path: '/api/keys', scope: 'admin' },
  { method: 'DELETE', path: '/api/keys/{id}', scope: 'admin' },
  { method: 'GET', path: '/api/audit/commands', scope: 'admin', query: { limit: '10', cursor: 'abc' } },
  {
    method: 'POST',
    path: '/api/rules',
    scope: 'admin',
    valid: (n) => ({
      name: `fuzz rule ${n}`,
      metric: 'temperature',
      tags: { room: 'lab' },
      condition: { type: 'outside', low: 1.5, high: 30 },
      for_seconds: 60,
      severity: 'critical',
      webhooks: [{ url: 'https://hooks.example/plexus' }],
      silenced_until: '2030-01-01T00:00:00Z',
    }),
  },
  { method: 'GET', path: '/api/rules', scope: 'read' },
  { method: 'GET', path: '/api/rules/{id}', scope: 'read' },
  {
    method: 'PATCH',
    path: '/api/rules/{id}',
    scope: 'admin',
    valid: () => ({ name: 'n', source_id: 'fuzz-1', condition: { type: 'no_data', seconds: 60 }, webhooks: [{ url: 'http://h.example' }] }),
  },
  { method: 'DELETE', path: '/api/rules/{id}', scope: 'admin' },
  {
    method: 'POST',
    path: '/api/rules/test',
    scope: 'read',
    valid: () => ({
      rule: { name: 'dry', metric: 'temp', condition: { type: 'above', threshold: 30 } },
      from: '2026-11-30T00:00:00Z',
      to: '2026-11-30T01:00:00Z',
    }),
  },
  { method: 'GET', path: '/api/alerts', scope: 'read', query: { state: 'firing', rule_id: 'rule_x', source_id: 'fuzz-1', limit: '10' } },
  { method: 'POST', path: '/api/alerts/{id}/ack', scope: 'admin' },
  { method: 'GET', path: '/api/config', scope: 'none' },
  { method: 'GET', path: '/setup', scope: 'none', query: { code: 'ABC234' } },
  { method: 'GET', path: '/api/docs', scope: 'none' },
  { method: 'GET', path: '/assets/{id}', scope: 'none' },
  { method: 'GET', path: '/vendor/{id}', scope: 'none' },
  { method: 'GET', path: '/{id}', scope: 'none' },
  { method: 'GET', path: '/health/ready', scope: 'none' },
  { method: 'GET', path: '/metrics', scope: 'none' },
];

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  '',
];

function hostileRequest(
  random: Random,
  n: number,
): { endpoint: Endpoint; method: string; path: string; headers: Record<string, string>; body?: Buffer; label: string } {
  const endpoint = pick(random, ENDPOINTS);
  const labels: string[] = [];
  const method = random() < 0.05 ? pick(random, ['PUT', 'OPTIONS', 'TRACE', 'POST', 'GET', 'DELETE']) : endpoint.method;
  let path = endpoint.path.replace('{id}', () => (random() < 0.8 ? hostileSegment(random) : `fuzz-s-${n}`));
  const query = { ...(endpoint.query ?? {}) };
  for (const name of Object.keys(query)) if (random() < 0.4) query[name] = hostileQueryValue(random);
  if (random() < 0.1) query[pick(random, ['x', '__proto__', 'constructor', 'limit'])] = hostileQueryValue(random);
  const search = Object.entries(query).map(
    ([k, v]) => `${k}=${/%|[^\x21-\x7e]/.test(v) && !/^%[0-9A-F]{2}/i.test(v) ? v : encodeURIComponent(v)}`,
  );
  if (search.length) path += `?${search.join('&')}`;
  const headers: Record<string, string> = {};
  if (endpoint.scope !== 'none' || random() < 0.1) {
    const roll = random();
    headers['x-api-key'] =
      roll < 0.75
        ? keys.admin
        : roll < 0.85
          ? keys[endpoint.scope === 'none' ? 'read' : endpoint.scope]
          : pick(random, ['plx_short', `plx_${'A'.repeat(4000)}`, 'Bearer x', keys.read, 'é']);
  }
  if (random() < 0.05) headers['idempotency-key'] = pick(random, ['', 'x'.repeat(300), 'key with spaces', 'ok-key']);
  let body: Buffer | undefined;
  if (endpoint.valid && method !== 'GET' && method !== 'DELETE') {
    const mutated = mutateJson(endpoint.valid(n), random);
    labels.push(mutated.label);
    body = mutated.bytes;
    headers['content-type'] = random() < 0.85 ? 'application/json' : pick(random, CONTENT_TYPES);
    if (random() < 0.08) {
      headers['content-encoding'] = 'gzip';
      body = random() < 0.5 ? gzipSync(body) : body;
      labels.push('gzip');
    }
  } else if (endpoint.validText && method === 'POST') {
    const mutated =
      random() < 0.15
        ? { bytes: Buffer.from(endpoint.validText(n)), label: 'valid line protocol' }
        : mutateText(endpoint.validText(n), random);
    labels.push(mutated.label);
    body = mutated.bytes;
    if (random() < 0.3) headers['content-type'] = pick(random, CONTENT_TYPES);
    if (random() < 0.08) {
      headers['content-encoding'] = 'gzip';
      body = random() < 0.5 ? gzipSync(body) : body;
      labels.push('gzip');
    }
  } else if (random() < 0.05) {
    body = Buffer.from(pick(random, HOSTILE_STRINGS));
    headers['content-type'] = pick(random, CONTENT_TYPES) || 'application/json';
  }
  if (headers['content-type'] === '') delete headers['content-type'];
  return { endpoint, method, path, headers, body, label: labels.join(', ') };
}

/** A WebSocket upgrade written by hand, so the path can be anything. */
function upgrade(port: number, path: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    let answer = '';
    const done = () => {
      socket.destroy();
      resolve(answer.split('\r\n')[0] ?? '');
    };
    socket.setTimeout(5000, done);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) done();
    });
    socket.on('error', done);
    socket.on('close', done);
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
  });
}

async function appsAlive(): Promise<Record<string, number>> {
  const statuses: Record<string, number> = {};
  for (const [app, port] of Object.entries({
    gateway: platform.ports.gateway,
    realtime: platform.ports.realtime,
    ingest: platform.ports.ingest,
    pairing: platform.ports.pairing,
    alerts: platform.ports.alerts,
  })) {
    statuses[app] = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
      (r) => r.status,
      () => 0,
    );
  }
  return statuses;
}

const ALL_READY = { gateway: 200, realtime: 200, ingest: 200, pairing: 200, alerts: 200 };

/** Errors no handler expected, per app: each would be a bug found by the corpus, even if answered. */
async function unexpectedErrors(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [app, port] of Object.entries({
    gateway: platform.ports.gateway,
    realtime: platform.ports.realtime,
    ingest: platform.ports.ingest,
    pairing: platform.ports.pairing,
    alerts: platform.ports.alerts,
  })) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    counts[app] = [...text.matchAll(/^plexus_unexpected_errors_total\{[^}]*\} (\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
  }
  return counts;
}

const NO_UNEXPECTED_ERRORS = { gateway: 0, realtime: 0, ingest: 0, pairing: 0, alerts: 0 };

describe('hostile input corpus', () => {
  it(`answers ${HTTP_REQUESTS} malformed HTTP requests without a 5xx, and every acknowledged point is stored`, async () => {
    const random = seededRandom(SEED);
    const failures: string[] = [];
    const byStatus = new Map<number, number>();
    let acknowledgedIngests = 0;
    let acknowledgedLineProtocol = 0;
    let closedWhileWriting = 0;
    let next = 0;
    const worker = async () => {
      while (next < HTTP_REQUESTS) {
        const n = next++;
        const request = hostileRequest(random, n);
        const answer = await send(platform.ports.gateway, request.method, request.path, request.headers, request.body);
        byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
        // A large body refused before the gateway read it (a bad URL, a missing key) may meet a
        // closed connection while it is still being written: a refusal, not a failure.
        if (answer.status === -1 && /^write (EPIPE|ECONNRESET)/.test(answer.body) && (request.body?.length ?? 0) > 64 * 1024) {
          closedWhileWriting++;
          continue;
        }
        // The write routes answer in InfluxDB's shapes; another method on their path is no route (Plexus's shape).
        const coded =
          /"code":"[A-Z_]+"/.test(answer.body) || (request.endpoint.influx === true && /^\{"(code":"[a-z ]+"|error":")/.test(answer.body));
        const uncoded = answer.status >= 400 && !coded;
        if (answer.status >= 500 || answer.status === -1 || answer.status === 0 || uncoded) {
          failures.push(
            `#${n} ${request.method} ${request.path.slice(0, 120)} [${request.label}] ${JSON.stringify(request.headers).slice(0, 200)} body ${request.body?.length ?? 0} B → ${answer.status} ${answer.body.slice(0, 300)}`,
          );
        }
        if (request.endpoint.path === '/api/ingest' && answer.status === 200) acknowledgedIngests++;
        if (request.endpoint.influx && answer.status === 204) acknowledgedLineProtocol++;
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(failures).toEqual([]);
    expect([...byStatus.values()].reduce((a, b) => a + b, 0)).toBe(HTTP_REQUESTS);
    expect(closedWhileWriting).toBeLessThan(HTTP_REQUESTS / 100);
    expect(await appsAlive()).toEqual(ALL_READY);
    expect(await unexpectedErrors()).toEqual(NO_UNEXPECTED_ERRORS);

    // Whatever was acknowledged reaches the database: nothing waits, nothing was dead-lettered.
    expect(acknowledgedIngests).toBeGreaterThan(0);
    expect(acknowledgedLineProtocol).toBeGreaterThan(0);
    await platform.drained(60_000);
    const nc = await connect({ servers: platform.env.NATS_URL as string });
    try {
      const info = await (await jetstreamManager(nc)).streams.info(platform.streams.deadLetter);
      expect(info.state.messages).toBe(0);
    } finally {
      await nc.close();
    }
  }, 300_000);

  it('answers hostile WebSocket upgrade paths with a status line, and keeps serving', async () => {
    const random = seededRandom(SEED + 1);
    const answers: string[] = [];
    for (let i = 0; i < 60; i++) {
      const path =
        pick(random, ['/party/', '/ws/', '/', '/party/default/']) +
        hostileSegment(random) +
        (random() < 0.3 ? `?x=${hostileQueryValue(random)}` : '');
      const line = await upgrade(platform.ports.realtime, path);
      answers.push(line);
      expect(line).toMatch(/^HTTP\/1\.1 (101|400|404|414|431)\b|^$/);
    }
    expect(answers.length).toBe(60);
    expect(await appsAlive()).toEqual(ALL_READY);
    expect(await unexpectedErrors()).toEqual(NO_UNEXPECTED_ERRORS);
  }, 120_000);

  it(`answers ${WS_FRAMES} malformed WebSocket frames with error frames or documented close codes`, async () => {
    const random = seededRandom(SEED + 2);
    const url = `ws://127.0.0.1:${platform.ports.realtime}/ws`;
    const DOCUMENTED_CLOSE = new Set([1000, 1001, 1005, 1007, 1008, 1009, 1013, 4001, 4008, 4009, 4010, 4013]);
    const badCloses: string[] = [];
    const badFrames: string[] = [];
    let frames = 0;

    interface Peer {
      ws: WebSocket;
      open: Promise<boolean>;
      ready: Promise<boolean>;
    }
    /** Sockets this test cut off itself: their local 1006 is not the server's doing. */
    const cutOff = new WeakSet<WebSocket>();
    const cut = (ws: WebSocket) => {
      cutOff.add(ws);
      ws.terminate();
    };
    const connectAs = (role: 'device' | 'browser' | 'anonymous'): Peer => {
      const ws = new WebSocket(url);
      let resolveReady: (ok: boolean) => void = () => undefined;
      const ready = new Promise<boolean>((resolve) => (resolveReady = resolve));
      ws.on('message', (data) => {
        frames++;
        let frame: { type?: unknown; code?: unknown };
        try {
          frame = JSON.parse(String(data));
        } catch {
          badFrames.push(`not JSON: ${String(data).slice(0, 100)}`);
          return;
        }
        if (typeof frame.type !== 'string') badFrames.push(`no type: ${String(data).slice(0, 100)}`);
        if (frame.type === 'authenticated' || frame.type === 'init') resolveReady(true);
      });
      ws.on('close', (code, reason) => {
        resolveReady(false);
        if (!cutOff.has(ws) && !DOCUMENTED_CLOSE.has(code)) badCloses.push(`${role}: ${code} ${String(reason)}`);
      });
      ws.on('error', () => undefined);
      const open = new Promise<boolean>((resolve) => {
        ws.once('open', () => resolve(true));
        ws.once('error', () => resolve(false));
      });
      void open.then((ok) => {
        if (!ok) return resolveReady(false);
        if (role === 'device')
          ws.send(JSON.stringify({ type: 'device_auth', api_key: keys.write, source_id: 'fuzz-device', platform: 'Linux', sensors: [] }));
        else if (role === 'browser') ws.send(JSON.stringify({ type: 'browser_auth', api_key: keys.admin }));
        else resolveReady(true);
      });
      return { ws, open, ready };
    };

    const valid: Record<'device' | 'browser' | 'anonymous', object[]> = {
      device: [
        {
          type: 'telemetry',
          points: [{ metric: 'temp', value: 21.5, timestamp: Date.now(), tags: { session_id: 'fuzz-ws' } }],
          session_id: 'fuzz-ws',
        },
        { type: 'telemetry', points: [{ metric: 'temp', value: 1, timestamp: Date.now() }] },
        { type: 'session_started', session_id: 'fuzz-ws', session_name: 'Run' },
        { type: 'session_stopped', session_id: 'fuzz-ws' },
        { type: 'output', id: 'cmd-1', event: 'data', data: 'hello\n' },
        { type: 'output', id: 'cmd-1', event: 'exit', code: 0 },
        { type: 'pong' },
        { type: 'error', message: 'sensor failed' },
      ],
      browser: [
        { type: 'subscribe', source_ids: ['fuzz-device'] },
        { type: 'ping' },
        { type: 'start_stream', id: 's1', source_id: 'fuzz-device', metrics: ['temp'], interval_ms: 100 },
        { type: 'stop_stream', id: '*', source_id: 'fuzz-device' },
        {
          type: 'start_session',
          source_id: 'fuzz-device',
          session_id: 'fuzz-rs',
          session_name: 'Run',
          metrics: ['temp'],
          interval_ms: 100,
        },
        { type: 'stop_session', source_id: 'fuzz-device', session_id: 'fuzz-rs' },
        { type: 'configure', source_id: 'fuzz-device', sensor: 'MPU6050', config: { sample_rate: 10 } },
        { type: 'execute', source_id: 'fuzz-device', id: 'c1', command: 'echo hi' },
        { type: 'cancel', source_id: 'fuzz-device', id: 'c1' },
      ],
      anonymous: [
        { type: 'device_auth', api_key: 'plx_bad', source_id: 'x', platform: 'Linux', sensors: [] },
        { type: 'browser_auth', api_key: 'plx_bad' },
        { type: 'telemetry', points: [] },
      ],
    };

    const peers: Partial<Record<keyof typeof valid, Peer>> = {};
    for (let i = 0; i < WS_FRAMES; i++) {
      const role = pick(random, ['device', 'device', 'browser', 'browser', 'anonymous'] as const);
      let peer = peers[role];
      if (!peer || peer.ws.readyState !== WebSocket.OPEN || role === 'anonymous') {
        peer = connectAs(role);
        peers[role] = peer;
        if (!(await peer.ready)) continue;
      }
      const roll = random();
      if (roll < 0.03) peer.ws.send(Buffer.from([0xff, 0x00, 0x01]), { binary: true });
      else if (roll < 0.06) peer.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
      else peer.ws.send(mutateJson(pick(random, valid[role]), random).bytes);
      if (role === 'anonymous') {
        // Each anonymous socket gets one hostile first frame, then must be closed or answered.
        await new Promise<void>((resolve) => {
          peer!.ws.once('close', () => resolve());
          peer!.ws.once('message', () => resolve());
          setTimeout(resolve, 2000).unref();
        });
        cut(peer.ws);
      }
    }
    // The device and browser sockets still answer (or were closed with a documented code).
    for (const peer of Object.values(peers)) if (peer) cut(peer.ws);
    expect(badCloses).toEqual([]);
    expect(badFrames).toEqual([]);
    expect(frames).toBeGreaterThan(0);
    expect(await appsAlive()).toEqual(ALL_READY);
    expect(await unexpectedErrors()).toEqual(NO_UNEXPECTED_ERRORS);

    // And a fresh device and browser still work end to end.
    const browser = connectAs('browser');
    expect(await browser.ready).toBe(true);
    const device = connectAs('device');
    expect(await device.ready).toBe(true);
    const seen = new Promise<boolean>((resolve) =>
      browser.ws.on('message', (data) => String(data).includes('"after-fuzz"') && resolve(true)),
    );
    device.ws.send(JSON.stringify({ type: 'telemetry', points: [{ metric: 'after-fuzz', value: 1, timestamp: Date.now() }] }));
    expect(
      await waitFor(
        'the browser to see telemetry after the corpus',
        () => Promise.race([seen, new Promise<false>((r) => setTimeout(() => r(false), 200))]),
        10_000,
      ),
    ).toBe(true);
    cut(browser.ws);
    cut(device.ws);
  }, 300_000);
});
