import { connect as netConnect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';

let platform: Platform;

/**
 * POSTs over a raw socket and parses whatever answer arrives: the gateway answers 413 from
 * Content-Length and closes without reading the body, which HTTP clients report as EPIPE or
 * ECONNRESET at random, before or after the answer.
 */
function postReadingEarlyAnswer(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const { hostname, port, pathname } = new URL(url);
    const socket = netConnect(Number(port), hostname);
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const match = /^HTTP\/1\.1 (\d{3})[^]*?\r\n\r\n([^]*)$/.exec(received);
      if (!match) return reject(new Error(`no HTTP answer: ${received.slice(0, 200)}`));
      resolve({ status: Number(match[1]), body: JSON.parse(match[2]) });
    });
    const head = Object.entries({
      ...headers,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
    })
      .map(([name, value]) => `${name}: ${value}`)
      .join('\r\n');
    socket.write(`POST ${pathname} HTTP/1.1\r\nhost: ${hostname}\r\n${head}\r\n\r\n`);
    socket.end(body);
  });
}

beforeAll(async () => {
  platform = await Platform.start({ apps: ['pairing', 'ingest', 'gateway'] });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

interface QueryAnswer {
  source_id: string;
  metric: string;
  points: Array<{ timestamp: number; value: unknown; tags?: Record<string, unknown>; session_id?: string }>;
}

async function query(params: Record<string, string>): Promise<QueryAnswer> {
  const response = await platform.api(`/api/query?${new URLSearchParams(params)}`);
  expect(response.status).toBe(200);
  return (await response.json()) as QueryAnswer;
}

async function expectError(response: Response, status: number, index?: number, field?: string): Promise<{ message: string }> {
  const body = (await response.json()) as {
    statusCode: number;
    error: string;
    message: string;
    details?: Array<{ index?: number; field: string }>;
  };
  expect({ status: response.status, statusCode: body.statusCode }).toEqual({ status, statusCode: status });
  expect(typeof body.error).toBe('string');
  expect(body.message.length).toBeGreaterThan(0);
  if (field !== undefined) {
    expect(body.details?.[0]).toMatchObject({ ...(index === undefined ? {} : { index }), field });
  }
  return body;
}

describe('POST /api/ingest → GET /api/query', () => {
  it('answers the contract example with 200 and the point comes back from /api/query', async () => {
    const response = await platform.ingest([{ metric: 'temperature', value: 72.5, timestamp: 1699900000, source_id: 'sensor-001' }]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true, accepted: 1 });
    const answer = await waitFor('the point to be queryable', async () => {
      const result = await query({ source_id: 'sensor-001', metric: 'temperature' });
      return result.points.length === 1 ? result : undefined;
    });
    expect(answer).toEqual({ source_id: 'sensor-001', metric: 'temperature', points: [{ timestamp: 1699900000, value: 72.5 }] });
  });

  it('round-trips every value type with its type intact', async () => {
    const values: unknown[] = [
      42,
      -40,
      3.14159,
      0,
      1e-9,
      'idle',
      '',
      true,
      false,
      { x: 1.2, y: 3.4, z: 5.6 },
      [1, 2, 3, 4],
      { nested: { list: [1, 'a', null, false] } },
      [],
    ];
    const points = values.map((value, i) => ({ metric: 'typed', value, timestamp: 1700000000 + i, source_id: 'types-1' }));
    expect((await platform.ingest(points)).status).toBe(200);
    const answer = await waitFor('all typed points', async () => {
      const result = await query({ source_id: 'types-1', metric: 'typed' });
      return result.points.length === values.length ? result : undefined;
    });
    expect(answer.points.map((p) => p.value)).toEqual(values);
    expect(answer.points.map((p) => p.timestamp)).toEqual(values.map((_, i) => 1700000000 + i));
  });

  it('reads timestamps as seconds or milliseconds, keeps sub-second precision, and stamps points sent without one', async () => {
    const before = Date.now() / 1000;
    const response = await platform.ingest([
      { metric: 'clock', value: 1, timestamp: 1699900000.123456, source_id: 'clock-1' },
      { metric: 'clock', value: 2, timestamp: 1699900001234, source_id: 'clock-1' },
      { metric: 'clock', value: 3, source_id: 'clock-1' },
    ]);
    expect(response.status).toBe(200);
    const answer = await waitFor('three clock points', async () => {
      const result = await query({ source_id: 'clock-1', metric: 'clock' });
      return result.points.length === 3 ? result : undefined;
    });
    expect(answer.points[0].timestamp).toBeCloseTo(1699900000.123456, 6);
    expect(answer.points[1].timestamp).toBeCloseTo(1699900001.234, 6);
    expect(answer.points[2].timestamp).toBeGreaterThanOrEqual(Math.floor(before));
    expect(answer.points[2].timestamp).toBeLessThan(before + 60);
  });

  it('keeps tags and session_id', async () => {
    const response = await platform.ingest([
      {
        metric: 'tagged',
        value: 1,
        timestamp: 1699900000,
        source_id: 'tags-1',
        tags: { location: 'lab', floor: 2, ok: true },
        session_id: 'run-7',
      },
    ]);
    expect(response.status).toBe(200);
    const answer = await waitFor('the tagged point', async () => {
      const result = await query({ source_id: 'tags-1', metric: 'tagged' });
      return result.points.length === 1 ? result : undefined;
    });
    expect(answer.points[0]).toEqual({
      timestamp: 1699900000,
      value: 1,
      tags: { location: 'lab', floor: 2, ok: true },
      session_id: 'run-7',
    });
  });

  it('accepts a gzip body', async () => {
    const body = gzipSync(JSON.stringify({ points: [{ metric: 'gz', value: 'zipped', timestamp: 1699900000, source_id: 'gz-1' }] }));
    const response = await platform.api('/api/ingest', {
      method: 'POST',
      body,
      headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' },
    });
    expect(response.status).toBe(200);
    const answer = await waitFor('the gzip point', async () => {
      const result = await query({ source_id: 'gz-1', metric: 'gz' });
      return result.points.length === 1 ? result : undefined;
    });
    expect(answer.points[0].value).toBe('zipped');
  });
});

describe('validation and limits', () => {
  const good = { metric: 'm', value: 1, source_id: 'val-1' };
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['a missing metric', { value: 1, source_id: 'val-1' }, 'metric'],
    ['an empty metric', { ...good, metric: '' }, 'metric'],
    ['a metric over 256 characters', { ...good, metric: 'm'.repeat(257) }, 'metric'],
    ['a metric with control characters', { ...good, metric: 'a\nb' }, 'metric'],
    ['a missing value', { metric: 'm', source_id: 'val-1' }, 'value'],
    ['a null value', { ...good, value: null }, 'value'],
    ['an object value over 64 KiB', { ...good, value: { blob: 'x'.repeat(70_000) } }, 'value'],
    ['a NUL character in a string value', { ...good, value: 'a\u0000b' }, 'value'],
    ['a string timestamp', { ...good, timestamp: '1699900000' }, 'timestamp'],
    ['a negative timestamp', { ...good, timestamp: -1 }, 'timestamp'],
    ['a timestamp past the year 9999', { ...good, timestamp: 1e16 }, 'timestamp'],
    ['a missing source_id', { metric: 'm', value: 1 }, 'source_id'],
    ['a source_id with a space', { ...good, source_id: 'bad id' }, 'source_id'],
    ['a source_id over 128 characters', { ...good, source_id: 'a'.repeat(129) }, 'source_id'],
    ['tags that are not an object', { ...good, tags: 'lab' }, 'tags'],
    ['a nested tag value', { ...good, tags: { deep: { a: 1 } } }, 'tags.deep'],
    ['more than 32 tags', { ...good, tags: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) }, 'tags'],
    ['a session_id over 128 characters', { ...good, session_id: 's'.repeat(129) }, 'session_id'],
  ];

  it.each(cases)('rejects %s with a 400 naming the point and field', async (_name, point, field) => {
    const response = await platform.ingest([good, point]);
    await expectError(response, 400, 1, field);
  });

  it('rejects a body without points, empty points, and malformed JSON with 400', async () => {
    await expectError(await platform.api('/api/ingest', { method: 'POST', body: JSON.stringify({}) }), 400, undefined, 'points');
    await expectError(
      await platform.api('/api/ingest', { method: 'POST', body: JSON.stringify({ points: [] }) }),
      400,
      undefined,
      'points',
    );
    await expectError(await platform.api('/api/ingest', { method: 'POST', body: '{"points": [' }), 400);
  });

  it('rejects the whole request when one point is bad: none of its points are stored', async () => {
    const response = await platform.ingest([
      { metric: 'whole', value: 1, timestamp: 1699900000, source_id: 'whole-1' },
      { metric: 'whole', value: null, timestamp: 1699900001, source_id: 'whole-1' },
      { metric: 'whole', value: 3, timestamp: 1699900002, source_id: 'whole-1' },
    ]);
    await expectError(response, 400, 1, 'value');
    expect((await platform.ingest([{ metric: 'whole', value: 9, timestamp: 1699900009, source_id: 'whole-2' }])).status).toBe(200);
    await platform.drained();
    expect(await platform.count(`SELECT count(*) FROM telemetry WHERE source_id = 'whole-1'`)).toBe(0);
    expect(await platform.count(`SELECT count(*) FROM telemetry WHERE source_id = 'whole-2'`)).toBe(1);
  });

  it('answers 413 for more than 10,000 points and for a body over 5 MiB', async () => {
    const many = Array.from({ length: 10_001 }, (_, i) => ({ metric: 'm', value: i, source_id: 'big-1' }));
    await expectError(await platform.ingest(many), 413, undefined, 'points');
    // The gateway answers 413 from Content-Length without reading the body, so this client
    // must read the answer while it is still sending (fetch gives up with EPIPE).
    const huge = JSON.stringify({
      points: Array.from({ length: 100 }, () => ({ metric: 'm', value: 'x'.repeat(60_000), source_id: 'big-1' })),
    });
    const early = await postReadingEarlyAnswer(`${platform.gateway}/api/ingest`, huge, { 'x-api-key': platform.adminKey });
    expect(early.status).toBe(413);
    expect(early.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    const bomb = gzipSync(JSON.stringify({ points: [{ metric: 'm', value: 'y'.repeat(6 * 1024 * 1024), source_id: 'big-1' }] }));
    expect(bomb.length).toBeLessThan(100_000);
    await expectError(
      await platform.api('/api/ingest', {
        method: 'POST',
        body: bomb,
        headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' },
      }),
      413,
    );
  });

  it('answers 401 without a key or with an unknown key, and 403 without the write scope', async () => {
    await expectError(await platform.ingest([good], { key: '' }), 401);
    await expectError(await platform.api('/api/ingest', { method: 'POST', body: JSON.stringify({ points: [good] }), key: null }), 401);
    await expectError(await platform.ingest([good], { key: 'plx_' + 'A'.repeat(40) }), 401);
    const readOnly = await platform.createKey(['read']);
    await expectError(await platform.ingest([good], { key: readOnly }), 403);
    const writer = await platform.createKey(['write']);
    expect((await platform.ingest([good], { key: writer })).status).toBe(200);
    await expectError(await platform.api('/api/query?source_id=val-1&metric=m', { key: writer }), 403);
  });

  it('GET /api/auth/verify-key answers with the key’s org and scopes, or 401', async () => {
    const response = await platform.api('/api/auth/verify-key');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ valid: true, org_id: 'default', scopes: ['admin'] });
    await expectError(await platform.api('/api/auth/verify-key', { key: 'plx_' + 'B'.repeat(40) }), 401);
  });
});

describe('exactly once', () => {
  it('stores a request sent twice with one Idempotency-Key once, even without timestamps', async () => {
    const points = [{ metric: 'idem', value: 1, source_id: 'idem-1' }];
    const headers = { 'idempotency-key': 'retry-42' };
    expect((await platform.ingest(points, { headers })).status).toBe(200);
    expect((await platform.ingest(points, { headers })).status).toBe(200);
    expect((await platform.ingest(points, { headers: { 'idempotency-key': 'retry-43' } })).status).toBe(200);
    await platform.drained();
    expect(await platform.count(`SELECT count(*) FROM telemetry WHERE source_id = 'idem-1'`)).toBe(2);
  });

  it('stores the same point (org, source, metric, time, tags, session) sent twice once', async () => {
    const point = { metric: 'dup', value: 1, timestamp: 1699900000.5, source_id: 'dup-1', tags: { a: 'x', b: 2 }, session_id: 's' };
    expect((await platform.ingest([point, point])).status).toBe(200);
    expect((await platform.ingest([{ ...point, tags: { b: 2, a: 'x' } }])).status).toBe(200);
    expect((await platform.ingest([{ ...point, tags: { a: 'y', b: 2 } }])).status).toBe(200);
    await platform.drained();
    expect(await platform.count(`SELECT count(*) FROM telemetry WHERE source_id = 'dup-1'`)).toBe(2);
  });
});

describe('large requests', () => {
  it('stores a request larger than a broker message (1 MiB) completely', async () => {
    // ~4.5 MiB of hard-to-compress strings: more than one NATS message even gzip-compressed.
    const { randomBytes } = await import('node:crypto');
    const points = Array.from({ length: 9000 }, (_, i) => ({
      metric: 'blob',
      value: randomBytes(250).toString('hex'),
      timestamp: 1700000000 + i / 1000,
      source_id: 'large-1',
    }));
    const body = JSON.stringify({ points });
    expect(body.length).toBeGreaterThan(4 * 1024 * 1024);
    const response = await platform.api('/api/ingest', { method: 'POST', body, headers: { 'idempotency-key': 'large-1' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true, accepted: 9000 });
    expect((await platform.api('/api/ingest', { method: 'POST', body, headers: { 'idempotency-key': 'large-1' } })).status).toBe(200);
    await platform.drained();
    expect(await platform.count(`SELECT count(*) FROM telemetry WHERE source_id = 'large-1'`)).toBe(9000);
    expect(await platform.count(`SELECT count(DISTINCT value_json) FROM telemetry WHERE source_id = 'large-1'`)).toBe(9000);
  });

  it('stores a compressible request of a few MiB as one compressed message', async () => {
    const points = Array.from({ length: 10_000 }, (_, i) => ({
      metric: 'wave',
      value: [i, i + 1, i + 2, 'x'.repeat(200)],
      timestamp: 1700000000 + i / 1000,
      source_id: 'large-2',
    }));
    expect((await platform.ingest(points)).status).toBe(200);
    await platform.drained();
    expect(await platform.count(`SELECT count(*) FROM telemetry WHERE source_id = 'large-2'`)).toBe(10_000);
  });
});
