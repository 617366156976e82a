import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { Plexus, type PlexusOptions } from './client.js';
import { AuthenticationError, PlexusError, UnavailableError, ValidationError } from './errors.js';
import type { WirePoint } from './points.js';

/** One request as the test server received it, the body decompressed and parsed. */
interface Exchange {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  body: unknown;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Answers per test; undefined means "answer as the platform would when all is well". */
type Script = (exchange: Exchange, index: number) => Reply | undefined | Promise<Reply | undefined>;

class RecordingServer {
  readonly requests: Exchange[] = [];
  script: Script = () => undefined;
  url = '';
  private readonly server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', async () => {
      const raw = Buffer.concat(chunks);
      const text = (incoming.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      const exchange: Exchange = {
        method: incoming.method ?? '',
        path: incoming.url ?? '',
        headers: incoming.headers,
        raw,
        body: text ? JSON.parse(text) : undefined,
      };
      this.requests.push(exchange);
      const reply = (await this.script(exchange, this.requests.length - 1)) ?? platformReply(exchange);
      outgoing.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      outgoing.end(JSON.stringify(reply.body));
    });
  });

  async start(port = 0): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    // fetch keeps connections alive; close() alone would wait for them.
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  ingests(): Exchange[] {
    return this.requests.filter((exchange) => exchange.path === '/api/ingest');
  }
}

function platformReply(exchange: Exchange): Reply {
  const body = exchange.body as Record<string, unknown>;
  if (exchange.path === '/api/ingest') return { status: 200, body: { success: true, accepted: pointsOf(exchange).length } };
  if (exchange.method === 'POST' && exchange.path === '/api/sessions')
    return { status: 201, body: { ...body, started_at: new Date().toISOString() } };
  if (exchange.method === 'PATCH')
    return { status: 200, body: { session_id: decodeURIComponent(exchange.path.split('/').pop()!), ...body } };
  return { status: 404, body: { statusCode: 404, error: 'Not Found', message: `no route ${exchange.path}` } };
}

function pointsOf(exchange: Exchange): WirePoint[] {
  return (exchange.body as { points: WirePoint[] }).points;
}

function errorReply(status: number, message: string, extra: Partial<Reply> = {}): Reply {
  return { status, body: { statusCode: status, error: 'Error', message }, ...extra };
}

/** Rejects when `promise` has not settled within `ms`: a deadline, so a broken client fails fast. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => (resolve = settle));
  return { promise, resolve };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection, the promise resolved');
    },
    (reason: unknown) => reason,
  );
}

let server: RecordingServer;
let clients: Plexus[];
let sleeps: number[];
let reported: Array<{ error: PlexusError; lostPoints: number }>;

function plexus(options: PlexusOptions = {}): Plexus {
  const client = new Plexus({
    apiKey: 'plx_test_key',
    sourceId: 'rig-1',
    endpoint: server.url,
    // Far away, so only the test decides when queued points go out.
    flushIntervalMs: 60_000,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onError: (error, lostPoints) => reported.push({ error, lostPoints }),
    ...options,
  });
  clients.push(client);
  return client;
}

beforeEach(async () => {
  server = new RecordingServer();
  await server.start();
  clients = [];
  sleeps = [];
  reported = [];
});

afterEach(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  await server.stop();
});

describe('send() batching', () => {
  it('sends 250 points as 100, 100 and 50, each point per the contract', async () => {
    const px = plexus({ batchSize: 100 });
    const before = Date.now() / 1000;
    const sent = Array.from({ length: 250 }, (_, index) => px.send('temperature', index));
    await px.flush();
    await Promise.all(sent);
    const after = Date.now() / 1000;

    const ingests = server.ingests();
    expect(ingests.map((exchange) => pointsOf(exchange).length)).toEqual([100, 100, 50]);
    for (const exchange of ingests) {
      expect(exchange.method).toBe('POST');
      expect(exchange.headers['x-api-key']).toBe('plx_test_key');
      expect(exchange.headers['content-type']).toBe('application/json');
      expect(exchange.headers['idempotency-key']).toMatch(/^[\x21-\x7E]{1,256}$/);
      for (const point of pointsOf(exchange)) {
        expect(Object.keys(point).sort()).toEqual(['metric', 'source_id', 'timestamp', 'value']);
        expect(point.source_id).toBe('rig-1');
        expect(point.metric).toBe('temperature');
        expect(point.timestamp).toBeGreaterThanOrEqual(Math.floor(before * 1000) / 1000);
        expect(point.timestamp).toBeLessThanOrEqual(after);
        expect(Math.round(point.timestamp * 1000) / 1000).toBe(point.timestamp);
      }
    }
    expect(ingests.flatMap((exchange) => pointsOf(exchange).map((point) => point.value))).toEqual(
      Array.from({ length: 250 }, (_, index) => index),
    );
    expect(new Set(ingests.map((exchange) => exchange.headers['idempotency-key'])).size).toBe(3);
  });

  it('sends a lone point after flushIntervalMs, and send() settles only once the server has answered', async () => {
    const arrived = deferred();
    const release = deferred();
    server.script = async () => {
      arrived.resolve();
      await release.promise;
      return undefined;
    };
    const px = plexus({ flushIntervalMs: 20 });
    let settled = false;
    const sent = px.send('humidity', 40, { tags: { room: 'lab' }, timestamp: new Date(1_700_000_000_250) }).finally(() => (settled = true));

    await within(arrived.promise, 5000, 'the timer-driven request');
    expect(settled).toBe(false);
    release.resolve();
    await within(sent, 5000, 'send() after the answer');
    expect(pointsOf(server.requests[0])).toEqual([
      { metric: 'humidity', value: 40, timestamp: 1_700_000_000.25, source_id: 'rig-1', tags: { room: 'lab' } },
    ]);
  });

  it('refuses a bad point locally so it cannot sink the rest of its batch', async () => {
    const px = plexus();
    const bad = px.send('temperature', Number.NaN);
    const good = px.send('temperature', 21.5);
    await px.flush();

    await expect(bad).rejects.toBeInstanceOf(ValidationError);
    await expect(good).resolves.toBeUndefined();
    expect(server.ingests().map((exchange) => pointsOf(exchange).map((point) => point.value))).toEqual([[21.5]]);
    expect(reported).toHaveLength(1);
    expect(reported[0].error).toBeInstanceOf(ValidationError);
    expect(reported[0].lostPoints).toBe(1);
  });

  it('on close() sends what is queued, then refuses new points', async () => {
    const px = plexus();
    const queued = px.send('voltage', 3.3);
    await px.close();
    await expect(queued).resolves.toBeUndefined();
    expect(server.ingests()).toHaveLength(1);
    await expect(px.send('voltage', 3.4)).rejects.toThrow('this Plexus client is closed');
    expect(server.ingests()).toHaveLength(1);
  });

  it('holds a beforeExit hook only while points are queued, and the hook sends them', async () => {
    const px = plexus();
    const listenersBefore = process.listenerCount('beforeExit');
    const queued = px.send('voltage', 3.3);
    expect(process.listenerCount('beforeExit')).toBe(listenersBefore + 1);

    // What Node does when nothing else is left to run: the queued point must go out then.
    process.emit('beforeExit', 0);
    await within(queued, 5000, 'send() flushed by beforeExit');
    expect(server.ingests()).toHaveLength(1);
    expect(process.listenerCount('beforeExit')).toBe(listenersBefore);
  });
});

describe('gzip', () => {
  it('gzips a body over 1 KiB, and it decompresses to the points sent', async () => {
    const px = plexus();
    const points = Array.from({ length: 500 }, (_, index) => ({ metric: 'accel.x', value: index / 10, timestamp: 1_700_000_000 + index }));
    await expect(px.sendBatch(points)).resolves.toEqual({ accepted: 500 });

    const [exchange] = server.ingests();
    expect(exchange.headers['content-encoding']).toBe('gzip');
    const json = gunzipSync(exchange.raw).toString('utf8');
    expect(exchange.raw.length).toBeLessThan(Buffer.byteLength(json));
    expect(JSON.parse(json)).toEqual({ points: points.map((point) => ({ ...point, source_id: 'rig-1' })) });
  });

  it('sends a body of 1 KiB or less as plain JSON', async () => {
    const px = plexus();
    await px.sendBatch([['temperature', 21.5]]);
    const [exchange] = server.ingests();
    expect(exchange.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(exchange.raw.toString('utf8'))).toEqual({
      points: [expect.objectContaining({ metric: 'temperature', value: 21.5 })],
    });
  });

  it('sends large bodies plain with gzip: false', async () => {
    const px = plexus({ gzip: false });
    await px.sendBatch(Array.from({ length: 500 }, (_, index): [string, number] => ['accel.x', index]));
    const [exchange] = server.ingests();
    expect(exchange.headers['content-encoding']).toBeUndefined();
    expect(pointsOf(exchange)).toHaveLength(500);
  });
});

describe('sendBatch()', () => {
  it('splits above 10,000 points, with one Idempotency-Key per request', async () => {
    const px = plexus();
    const result = await px.sendBatch(Array.from({ length: 10_001 }, (_, index): [string, number] => ['counter', index]));

    expect(result).toEqual({ accepted: 10_001 });
    const ingests = server.ingests();
    expect(ingests.map((exchange) => pointsOf(exchange).length)).toEqual([10_000, 1]);
    expect(ingests[0].headers['idempotency-key']).not.toBe(ingests[1].headers['idempotency-key']);
    expect(pointsOf(ingests[1])[0]).toMatchObject({ metric: 'counter', value: 10_000, source_id: 'rig-1' });
  });
});

describe('retries', () => {
  it.each([
    [503, 'broker unavailable'],
    [429, 'rate limited'],
  ])('retries %i, honouring Retry-After, with the same Idempotency-Key on every attempt', async (status, message) => {
    server.script = (_exchange, index) => (index < 2 ? errorReply(status, message, { headers: { 'retry-after': '1' } }) : undefined);
    const px = plexus();
    const sent = px.send('temperature', 21.5);
    await px.flush();
    await expect(sent).resolves.toBeUndefined();

    const keys = server.requests.map((exchange) => exchange.headers['idempotency-key']);
    expect(keys).toHaveLength(3);
    expect(keys[0]).toBeTruthy();
    expect(new Set(keys).size).toBe(1);
    expect(sleeps).toHaveLength(2);
    for (const ms of sleeps) {
      expect(ms).toBeGreaterThanOrEqual(1000);
      expect(ms).toBeLessThanOrEqual(1100);
    }
    expect(reported).toEqual([]);
  });

  it('retries a refused connection until the server is up', async () => {
    const port = Number(new URL(server.url).port);
    await server.stop();
    const later = new RecordingServer();
    const px = plexus({
      endpoint: `http://127.0.0.1:${port}`,
      // The first retry wait is when the platform "comes back".
      sleep: async (ms) => {
        sleeps.push(ms);
        if (sleeps.length === 1) await later.start(port);
      },
    });
    try {
      await expect(px.sendBatch([['temperature', 21.5]])).resolves.toEqual({ accepted: 1 });
      expect(later.ingests()).toHaveLength(1);
      expect(sleeps).toHaveLength(1);
      // No Retry-After on a refused connection: the first exponential step, jittered.
      expect(sleeps[0]).toBeGreaterThanOrEqual(250);
      expect(sleeps[0]).toBeLessThanOrEqual(500);
    } finally {
      await px.close();
      await later.stop();
    }
  });

  it('gives up with UnavailableError after maxRetries + 1 attempts', async () => {
    server.script = () => errorReply(503, 'broker unavailable', { headers: { 'retry-after': '1' } });
    const px = plexus({ retry: { maxRetries: 3 } });
    const sent = px.send('temperature', 21.5);

    const error = await rejectionOf(px.flush());
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({ attempts: 4, status: 503, message: 'gave up after 4 attempts: broker unavailable' });
    expect((error as UnavailableError).cause).toMatchObject({ status: 503, message: 'broker unavailable' });
    expect(server.requests).toHaveLength(4);
    expect(sleeps).toHaveLength(3);
    await expect(sent).rejects.toBe(error);
    expect(reported).toEqual([{ error, lostPoints: 1 }]);
  });
});

describe('answers that are not retried', () => {
  const details = [{ index: 1, field: 'value', message: 'must not be null' }];

  it.each([
    [400, ValidationError],
    [413, ValidationError],
    [401, AuthenticationError],
    [403, AuthenticationError],
  ])('%i rejects at once with the server message and details', async (status, errorClass) => {
    server.script = () =>
      errorReply(status, `refused with ${status}`, {
        body: { statusCode: status, error: 'Error', message: `refused with ${status}`, details },
      });
    const px = plexus();
    const sent = [px.send('temperature', 21.5), px.send('temperature', 22)];

    const error = await rejectionOf(px.flush());
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toMatchObject({ status, message: `refused with ${status}`, details });
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    for (const point of sent) await expect(point).rejects.toBe(error);
    expect(reported).toEqual([{ error, lostPoints: 2 }]);
  });

  it('sendBatch() rejects with the same errors', async () => {
    server.script = () => errorReply(401, 'invalid API key');
    const px = plexus();
    await expect(px.sendBatch([['temperature', 1]])).rejects.toThrow(new AuthenticationError('invalid API key'));
    expect(server.requests).toHaveLength(1);
  });
});

describe('session()', () => {
  it('creates the session, files the callback points under it, then completes it', async () => {
    // The awaited send inside the callback is delivered by the timer.
    const px = plexus({ flushIntervalMs: 20 });
    const result = await px.session(
      'calibration',
      async (session) => {
        await session.send('temperature', 21.5);
        void session.send('temperature', 21.7, { tags: { probe: 'b' } });
        return session.id;
      },
      { sessionId: 'run-7', tags: { operator: 'ana' } },
    );

    expect(result).toBe('run-7');
    const [create, firstPoints, secondPoints, end] = server.requests;
    expect(server.requests).toHaveLength(4);
    expect(create).toMatchObject({
      method: 'POST',
      path: '/api/sessions',
      body: { session_id: 'run-7', name: 'calibration', source_id: 'rig-1', status: 'active', tags: { operator: 'ana' } },
    });
    expect([...pointsOf(firstPoints), ...pointsOf(secondPoints)].map((point) => [point.value, point.session_id])).toEqual([
      [21.5, 'run-7'],
      [21.7, 'run-7'],
    ]);
    expect(end).toMatchObject({ method: 'PATCH', path: '/api/sessions/run-7', body: { status: 'completed' } });
    const endedAt = (end.body as { ended_at: string }).ended_at;
    expect(new Date(endedAt).toISOString()).toBe(endedAt);
  });

  it('makes an id in the server format when none is given, and uses the one the server answers', async () => {
    server.script = (exchange) =>
      exchange.path === '/api/sessions' ? { status: 201, body: { session_id: 'session_from_server', status: 'active' } } : undefined;
    const px = plexus();
    await px.session('drive', (session) => {
      void session.send('speed', 3);
    });

    expect((server.requests[0].body as { session_id: string }).session_id).toMatch(/^session_\d+_[0-9a-f]{8}$/);
    expect(pointsOf(server.requests[1])[0].session_id).toBe('session_from_server');
    expect(server.requests[2].path).toBe('/api/sessions/session_from_server');
  });

  it('marks the session failed and rethrows when the callback throws, keeping the points sent before', async () => {
    const px = plexus();
    const boom = new Error('motor stalled');
    const error = await rejectionOf(
      px.session('run', (session) => {
        void session.send('current', 2.5);
        throw boom;
      }),
    );

    expect(error).toBe(boom);
    expect(server.requests.map((exchange) => `${exchange.method} ${exchange.path}`)).toEqual([
      'POST /api/sessions',
      'POST /api/ingest',
      expect.stringMatching(/^PATCH \/api\/sessions\/session_\d+_[0-9a-f]{8}$/),
    ]);
    expect(server.requests[2].body).toMatchObject({ status: 'failed' });
  });
});

describe('configuration', () => {
  const names = ['PLEXUS_API_KEY', 'PLEXUS_SOURCE_ID', 'PLEXUS_ENDPOINT'] as const;
  let saved: Record<string, string | undefined>;
  beforeEach(() => {
    saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
    for (const name of names) delete process.env[name];
  });
  afterEach(() => {
    for (const name of names) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('refuses to start without an API key, saying how to give one', () => {
    expect(() => new Plexus({ sourceId: 'rig-1' })).toThrow(PlexusError);
    expect(() => new Plexus({ sourceId: 'rig-1' })).toThrow(new PlexusError('no API key: pass { apiKey } or set PLEXUS_API_KEY'));
  });

  it('refuses a missing or malformed source id', () => {
    expect(() => new Plexus({ apiKey: 'plx_k' })).toThrow('no source id: pass { sourceId } or set PLEXUS_SOURCE_ID');
    expect(() => new Plexus({ apiKey: 'plx_k', sourceId: 'rig 1' })).toThrow(/invalid source id "rig 1"/);
  });

  it('takes the key, source and endpoint from the environment', async () => {
    process.env.PLEXUS_API_KEY = 'plx_from_env';
    process.env.PLEXUS_SOURCE_ID = 'env-rig';
    process.env.PLEXUS_ENDPOINT = `${server.url}/`;
    const px = new Plexus({ flushIntervalMs: 60_000 });
    clients.push(px);
    await px.sendBatch([['temperature', 1]]);

    const [exchange] = server.ingests();
    expect(exchange.headers['x-api-key']).toBe('plx_from_env');
    expect(pointsOf(exchange)[0].source_id).toBe('env-rig');
  });

  it('defaults the endpoint to http://127.0.0.1:8080', () => {
    expect(new Plexus({ apiKey: 'plx_k', sourceId: 'rig-1' }).endpoint).toBe('http://127.0.0.1:8080');
  });
});
