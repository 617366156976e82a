import { connect as netConnect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KEY_LIMITS } from '../libs/common/src/messages/sources.js';
import { Platform } from './support/platform.js';
import { deepJson } from './support/hostile.js';
import { waitFor } from './support/wait-for.js';

/**
 * Hostile input against the gateway's HTTP API: trickled bodies, bad Unicode, deep nesting,
 * NUL in names and paths, nulls where values belong (the seeded fuzz of every endpoint is the
 * hostile corpus, test/hostile-corpus.e2e-spec.ts). Every answer is a 4xx in the platform's error shape; nothing is a 5xx.
 */
let platform: Platform;

beforeAll(async () => {
  platform = await Platform.start({ apps: ['pairing', 'ingest', 'gateway', 'alerts'] });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

interface ErrorAnswer {
  statusCode: number;
  error: string;
  code: string;
  message: string;
  details?: Array<{ index?: number; field: string; message: string }>;
}

async function expectError(response: Response, status: number, code: string): Promise<ErrorAnswer> {
  const text = await response.text();
  expect({ status: response.status, text: text.slice(0, 300) }).toEqual({ status, text: expect.any(String) });
  const body = JSON.parse(text) as ErrorAnswer;
  expect(body).toMatchObject({ statusCode: status, code, error: expect.any(String), message: expect.any(String) });
  return body;
}

function post(
  path: string,
  body: string | Buffer,
  init: { key?: string | null; method?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  return platform.api(path, {
    method: init.method ?? 'POST',
    body,
    key: init.key,
    headers: { 'content-type': 'application/json', ...init.headers },
  });
}

/** A raw HTTP/1.1 exchange, for clients fetch cannot be: slow, partial, malformed. */
class RawClient {
  readonly socket: Socket;
  received = '';
  closed = false;

  constructor(port: number) {
    this.socket = netConnect(port, '127.0.0.1');
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => (this.received += chunk));
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => (this.closed = true));
  }

  write(text: string): boolean {
    if (this.closed || this.socket.destroyed) return false;
    this.socket.write(text);
    return true;
  }

  /** Writes one byte of `text` every `everyMs` until it is all sent or the socket is gone; answers the count sent. */
  trickle(text: string, everyMs: number): { sent: () => number; stop: () => void } {
    let sent = 0;
    const timer = setInterval(() => {
      if (sent >= text.length || !this.write(text[sent])) {
        clearInterval(timer);
        return;
      }
      sent++;
    }, everyMs);
    return { sent: () => sent, stop: () => clearInterval(timer) };
  }

  status(): number | undefined {
    const match = /^HTTP\/1\.1 (\d{3})/.exec(this.received);
    return match ? Number(match[1]) : undefined;
  }

  body(): ErrorAnswer {
    return JSON.parse(this.received.slice(this.received.indexOf('\r\n\r\n') + 4)) as ErrorAnswer;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

describe('timeouts and credentials before the body (finding 7)', () => {
  let shortPort: number;

  beforeAll(async () => {
    // A second gateway with a short request timeout, so a trickled body is cut off quickly.
    shortPort = await platform.startCopy('gateway', 'gateway-short', { PLEXUS_HTTP_REQUEST_TIMEOUT_MS: '2000' });
  }, 120_000);

  const head = (headers: Record<string, string>) =>
    `POST /api/ingest HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n${Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('')}\r\n`;

  it('answers 401 to a body trickled without a key before the body has arrived, and closes', async () => {
    const body = JSON.stringify({ points: [{ metric: 'slow', value: 1, source_id: 'slow-1' }] }).padEnd(400, ' ');
    const client = new RawClient(platform.ports.gateway);
    client.write(head({ 'content-length': String(body.length) }));
    const trickle = client.trickle(body, 50);
    try {
      await waitFor(
        'the gateway to answer and close',
        () => client.closed && client.status() !== undefined,
        30_000,
        () => client.received,
      );
      expect(client.status()).toBe(401);
      expect(client.body()).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' });
      expect(trickle.sent()).toBeLessThan(body.length);
    } finally {
      trickle.stop();
      client.destroy();
    }
  });

  it('answers 401 to a trickled body with an unknown key, and 403 SCOPE_MISSING with a key lacking the scope', async () => {
    const reader = await platform.createKey(['read']);
    for (const [key, status, code] of [
      ['plx_' + 'Z'.repeat(40), 401, 'UNAUTHORIZED'],
      [reader, 403, 'SCOPE_MISSING'],
    ] as const) {
      const client = new RawClient(platform.ports.gateway);
      client.write(head({ 'content-length': '400', 'x-api-key': key }));
      const trickle = client.trickle('{'.padEnd(400, ' '), 50);
      try {
        await waitFor(
          `the gateway to answer ${status}`,
          () => client.closed && client.status() !== undefined,
          30_000,
          () => client.received,
        );
        expect({ status: client.status(), code: client.body().code }).toEqual({ status, code });
        expect(trickle.sent()).toBeLessThan(400);
      } finally {
        trickle.stop();
        client.destroy();
      }
    }
  });

  it('cuts off a body trickled with a valid key after the request timeout with 408 REQUEST_TIMEOUT', async () => {
    const client = new RawClient(shortPort);
    client.write(head({ 'content-length': '100000', 'x-api-key': platform.adminKey }));
    const trickle = client.trickle('{'.padEnd(100_000, ' '), 100);
    try {
      await waitFor(
        'the gateway to cut the request off',
        () => client.closed,
        30_000,
        () => client.received,
      );
      expect(client.status()).toBe(408);
      expect(client.body()).toMatchObject({ statusCode: 408, code: 'REQUEST_TIMEOUT' });
      expect(trickle.sent()).toBeLessThan(100_000);
    } finally {
      trickle.stop();
      client.destroy();
    }
  });

  it('cuts off headers that never end with 408', async () => {
    const client = new RawClient(shortPort);
    client.write('GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n');
    const trickle = client.trickle(`x-slow: ${'s'.repeat(10_000)}\r\n\r\n`, 100);
    try {
      await waitFor(
        'the gateway to cut the headers off',
        () => client.closed,
        30_000,
        () => client.received,
      );
      expect(client.status()).toBe(408);
      expect(client.body()).toMatchObject({ code: 'REQUEST_TIMEOUT' });
    } finally {
      trickle.stop();
      client.destroy();
    }
  });

  it('still takes requests on the gateway with the short timeout', async () => {
    const response = await fetch(`http://127.0.0.1:${shortPort}/api/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': platform.adminKey },
      body: JSON.stringify({ points: [{ metric: 'short', value: 1, source_id: 'short-1' }] }),
    });
    expect(response.status).toBe(200);
  });
});

describe('lone surrogates in ingest (finding 13)', () => {
  const good = (i: number) => `{"metric":"uni","value":${i},"timestamp":${1_700_000_000 + i},"source_id":"uni-good"}`;
  it.each([
    ['a string value', '{"metric":"uni","value":"\\ud800","source_id":"uni-bad"}', 'value'],
    ['a string inside an object value', '{"metric":"uni","value":{"a":["x","\\udfff"]},"source_id":"uni-bad"}', 'value'],
    ['an object key inside an array value', '{"metric":"uni","value":[{"k\\ud83d":1}],"source_id":"uni-bad"}', 'value'],
    ['a tag value', '{"metric":"uni","value":1,"source_id":"uni-bad","tags":{"k":"\\udc00"}}', 'tags.k'],
    ['the metric', '{"metric":"uni\\ud800","value":1,"source_id":"uni-bad"}', 'metric'],
    ['the session_id', '{"metric":"uni","value":1,"source_id":"uni-bad","session_id":"s\\ud800"}', 'session_id'],
  ])('refuses %s with 400 naming the point and field', async (_where, bad, field) => {
    const response = await post('/api/ingest', `{"points":[${good(1)},${good(2)},${good(3)},${bad}]}`);
    const body = await expectError(response, 400, 'INVALID_BODY');
    expect(body.details).toEqual([{ index: 3, field, message: `points[3].${field} must be valid Unicode (no lone surrogates)` }]);
  });

  it('refuses a lone surrogate in a tag key', async () => {
    const body = await expectError(
      await post('/api/ingest', `{"points":[${good(1)},{"metric":"uni","value":1,"source_id":"uni-bad","tags":{"k\\ud800":1}}]}`),
      400,
      'INVALID_BODY',
    );
    expect(body.details?.[0]).toMatchObject({ index: 1, message: expect.stringContaining('must be valid Unicode (no lone surrogates)') });
  });

  it('acknowledges neither point of a refused request and keeps storing others', async () => {
    await expectError(
      await post('/api/ingest', `{"points":[${good(10)},{"metric":"uni","value":"\\ud800","source_id":"uni-good"}]}`),
      400,
      'INVALID_BODY',
    );
    const emoji = JSON.stringify('temp \u{1F600}');
    const accepted = await post(
      '/api/ingest',
      `{"points":[${good(11)},{"metric":"uni","value":${emoji},"timestamp":1700000012,"source_id":"uni-good","tags":{${emoji}:${emoji}}}]}`,
    );
    expect(accepted.status).toBe(200);
    await platform.drained();
    const stored = await platform.db.query(`SELECT value_num, value_json FROM telemetry WHERE source_id = 'uni-good' ORDER BY time`);
    expect(stored.rows.map((row: { value_num: number | null; value_json: unknown }) => row.value_num ?? row.value_json)).toEqual([
      11,
      'temp \u{1F600}',
    ]);
  });
});

describe('the ingest fast path: plain numeric bodies read without JSON.parse (ingest-body-scanner.ts)', () => {
  const plain = (i: number, source = 'fast-1') => `{"metric":"fast","value":${i},"timestamp":${1_700_000_000 + i},"source_id":"${source}"}`;

  it.each([
    ['a "__proto__" tag key', '{"metric":"fast","value":1,"source_id":"fast-bad","tags":{"__proto__":"x"}}', 400],
    ['a negative timestamp', '{"metric":"fast","value":1,"timestamp":-1,"source_id":"fast-bad"}', 400],
    ['a timestamp past the year 9999', '{"metric":"fast","value":1,"timestamp":253402300800000,"source_id":"fast-bad"}', 400],
    ['a source_id starting with "-"', '{"metric":"fast","value":1,"source_id":"-fast"}', 400],
    ['a point without value', '{"metric":"fast","source_id":"fast-bad"}', 400],
    ['a value of null', '{"metric":"fast","value":null,"source_id":"fast-bad"}', 400],
    ['a number with a leading zero', '{"metric":"fast","value":01,"source_id":"fast-bad"}', 400],
  ])('refuses %s after plain points as the general path does, naming it', async (_what, bad, status) => {
    const response = await post('/api/ingest', `{"points":[${plain(1, 'fast-bad')},${plain(2, 'fast-bad')},${bad}]}`);
    const body = await expectError(response, status, 'INVALID_BODY');
    expect(body.message.length).toBeGreaterThan(0);
  });

  it('reads no plain body before the key: none, an unknown one → 401, and nothing is stored', async () => {
    const body = `{"points":[${plain(1, 'fast-noauth')},${plain(2, 'fast-noauth')}]}`;
    await expectError(await post('/api/ingest', body, { key: null }), 401, 'UNAUTHORIZED');
    await expectError(await post('/api/ingest', body, { key: 'plx_not_a_key_of_this_platform' }), 401, 'UNAUTHORIZED');
    expect((await post('/api/ingest', `{"points":[${plain(3, 'fast-auth')}]}`)).status).toBe(200);
    await platform.drained();
    const stored = await platform.db.query(
      `SELECT source_id, count(*)::int AS n FROM telemetry WHERE source_id LIKE 'fast-%auth' GROUP BY 1`,
    );
    expect(stored.rows).toEqual([{ source_id: 'fast-auth', n: 1 }]);
  });

  it('refuses 10,001 plain points with 413 and trailing bytes after the body with 400', async () => {
    await expectError(
      await post('/api/ingest', `{"points":[${Array.from({ length: 10_001 }, (_, i) => plain(i, 'fast-bad')).join(',')}]}`),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    await expectError(await post('/api/ingest', `{"points":[${plain(1, 'fast-bad')}]} x`), 400, 'INVALID_BODY');
    const stored = await platform.db.query(`SELECT count(*)::int AS n FROM telemetry WHERE source_id = 'fast-bad'`);
    expect(stored.rows[0].n).toBe(0);
  });

  it('stores what it reads as the general path would: one series per meaning, exact numbers, -0 included', async () => {
    const points = [
      '{"metric":"fast","value":21.5,"timestamp":1700000100.25,"source_id":"fast-2","tags":{"room":"a","rack":2}}',
      '{"source_id":"fast-2","tags":{"rack":2,"room":"a"},"value":-0,"metric":"fast","timestamp":1700000101}',
      '{"metric":"fast","value":0.30000000000000004,"timestamp":1700000102000,"source_id":"fast-2","tags":{}}',
      '{"metric":"fast","value":123456789012345,"timestamp":1700000103,"source_id":"fast-2"}',
      // Not plain (an exponent): the whole body takes the general path, stored the same way.
      '{"metric":"fast","value":1e3,"timestamp":1700000104,"source_id":"fast-3"}',
    ];
    expect((await post('/api/ingest', `{"points":[${points.slice(0, 4).join(',')}]}`)).status).toBe(200);
    expect((await post('/api/ingest', `{"points":[${points[4]}]}`)).status).toBe(200);
    await platform.drained();
    const { rows } = await platform.db.query(
      `SELECT source_id, value_num, tags::text AS tags, extract(epoch FROM time)::float8 AS t FROM telemetry
        WHERE source_id IN ('fast-2', 'fast-3') ORDER BY time`,
    );
    expect(rows).toEqual([
      { source_id: 'fast-2', value_num: 21.5, tags: '{"rack": 2, "room": "a"}', t: 1700000100.25 },
      { source_id: 'fast-2', value_num: -0, tags: '{"rack": 2, "room": "a"}', t: 1700000101 },
      { source_id: 'fast-2', value_num: 0.30000000000000004, tags: '{}', t: 1700000102 },
      { source_id: 'fast-2', value_num: 123456789012345, tags: '{}', t: 1700000103 },
      { source_id: 'fast-3', value_num: 1000, tags: '{}', t: 1700000104 },
    ]);
    const series = await platform.db.query(`SELECT count(*)::int AS n FROM series WHERE source_id = 'fast-2'`);
    expect(series.rows[0].n).toBe(2);
  });
});

const deep = deepJson;

describe('deep nesting (finding 14)', () => {
  const routes: Array<[string, string, string, string | null]> = [
    ['POST', '/api/sessions', `{"source_id":"deep-1","tags":{"a":${deep(10_000)}}}`, 'admin'],
    ['PATCH', '/api/sessions/deep-session', `{"tags":${deep(10_000)}}`, 'admin'],
    ['POST', '/api/keys', `{"name":${deep(10_000)},"scopes":["read"]}`, 'admin'],
    ['POST', '/api/sources/pair', `{"name":${deep(10_000)}}`, 'admin'],
    ['POST', '/api/sources/pair/complete', `{"code":${deep(10_000)}}`, null],
    ['POST', '/api/auth/verify-device', `{"device_token":${deep(10_000)}}`, null],
    ['POST', '/api/ingest', `{"points":[{"metric":"m","source_id":"deep-1","value":${deep(10_000)}}]}`, 'admin'],
    ['POST', '/api/rules', `{"name":"r","tags":${deep(10_000)}}`, 'admin'],
    ['PATCH', '/api/rules/rule_AAAAAAAAAAAAAAAAAAAA', `{"tags":${deep(10_000)}}`, 'admin'],
    ['POST', '/api/rules/test', `{"rule":${deep(10_000)}}`, 'admin'],
  ];

  it.each(routes)('%s %s: 400 INVALID_BODY for a body 10,000 levels deep', async (method, path, body, key) => {
    const answer = await expectError(await post(path, body, { method, key: key ? undefined : null }), 400, 'INVALID_BODY');
    expect(answer.message).toContain('deeper than 64 levels');
  });

  it('refuses a deep gzip body after decompression, and still takes gzip bodies', async () => {
    const headers = { 'content-encoding': 'gzip' };
    const refused = await post('/api/ingest', gzipSync(`{"points":[{"metric":"m","source_id":"deep-1","value":${deep(65)}}]}`), {
      headers,
    });
    await expectError(refused, 400, 'INVALID_BODY');
    const accepted = await post('/api/ingest', gzipSync(`{"points":[{"metric":"m","source_id":"deep-1","value":${deep(60)}}]}`), {
      headers,
    });
    expect(accepted.status).toBe(200);
  });
});

describe('NUL, lone surrogates and nulls in names, tags, metadata and paths (finding 14)', () => {
  beforeAll(async () => {
    expect((await post('/api/sessions', JSON.stringify({ session_id: 'nul-session', source_id: 'nul-1' }))).status).toBe(201);
  });

  it.each([
    ['POST', '/api/sessions', '{"source_id":"nul-1","name":"a\\u0000b"}', 'name', 'must not contain NUL'],
    ['POST', '/api/sessions', '{"source_id":"nul-1","tags":{"room":"\\u0000"}}', 'tags.room', 'must not contain NUL'],
    ['POST', '/api/sessions', '{"source_id":"nul-1","metadata":{"k\\ud800":1}}', 'metadata["k\\ud800"]', 'valid Unicode'],
    ['POST', '/api/sessions', '{"source_id":"nul-1","metadata":{"deep":["\\udfff"]}}', 'metadata.deep[0]', 'valid Unicode'],
    ['PATCH', '/api/sessions/nul-session', '{"name":"\\u0000"}', 'name', 'must not contain NUL'],
    ['PATCH', '/api/sessions/nul-session', '{"tags":{"a":"\\ud800"}}', 'tags.a', 'valid Unicode'],
    ['POST', '/api/sources/pair', '{"name":"pi\\u0000"}', 'name', 'must not contain NUL'],
    ['POST', '/api/keys', '{"name":"k\\u0000","scopes":["read"]}', 'name', 'must not contain NUL'],
    ['POST', '/api/sources/pair/complete', '{"code":"ABC\\u0000"}', 'code', 'must not contain NUL'],
    ['POST', '/api/rules', '{"name":"r\\u0000","metric":"m","condition":{"type":"above","threshold":1}}', 'name', 'must not contain NUL'],
    [
      'POST',
      '/api/rules',
      '{"name":"r","metric":"m","tags":{"k":"\\ud800"},"condition":{"type":"above","threshold":1}}',
      'tags.k',
      'valid Unicode',
    ],
    ['PATCH', '/api/rules/rule_AAAAAAAAAAAAAAAAAAAA', '{"metric":"\\udfff"}', 'metric', 'valid Unicode'],
    ['POST', '/api/rules/test', '{"rule":{"name":"\\u0000"}}', 'rule.name', 'must not contain NUL'],
  ])('%s %s %s: 400 naming the field', async (method, path, body, field, reason) => {
    const answer = await expectError(await post(path, body, { method }), 400, 'INVALID_BODY');
    expect(answer.details?.[0]).toMatchObject({ field });
    expect(answer.message).toContain(reason);
  });

  it.each([
    ['GET', '/api/sessions/%00'],
    ['GET', '/api/sessions/%00/export'],
    ['PATCH', '/api/sessions/%00'],
    ['DELETE', '/api/sources/%00'],
    ['DELETE', '/api/keys/%00'],
    ['GET', '/api/rules/%00'],
    ['PATCH', '/api/rules/%00'],
    ['DELETE', '/api/rules/%00'],
    ['POST', '/api/alerts/%00/ack'],
    ['GET', '/api/alerts?cursor=%00'],
    ['GET', '/api/sessions?cursor=%00'],
    ['GET', '/api/audit/commands?cursor=%00'],
    ['GET', '/api/query?source_id=q-1&metric=%00'],
  ])('%s %s: 400 BAD_REQUEST naming the parameter', async (method, path) => {
    const response = await platform.api(path, { method, ...(method === 'PATCH' ? { body: '{}' } : {}) });
    const answer = await expectError(response, 400, 'BAD_REQUEST');
    expect(answer.message).toContain('must not contain NUL');
    expect(answer.details?.[0].field).toMatch(/^(sessionId|sourceId|keyId|ruleId|alertId|cursor|metric)$/);
  });

  it('answers 400 BAD_REQUEST for bad percent-encoding without echoing the path', async () => {
    for (const path of ['/api/sessions/%E0%A4%A', '/api/sessions/%ED%A0%80', `/api/sessions/%${'x'.repeat(500)}`]) {
      const answer = await expectError(await platform.api(path), 400, 'BAD_REQUEST');
      expect(answer.message.length).toBeLessThan(100);
    }
  });

  it('PATCH refuses "name": null and "tags": null with 400, leaving the session as it was', async () => {
    for (const body of ['{"name":null}', '{"tags":null}']) {
      const answer = await expectError(await post('/api/sessions/nul-session', body, { method: 'PATCH' }), 400, 'INVALID_BODY');
      expect(answer.details?.[0].field).toBe(body.includes('name') ? 'name' : 'tags');
    }
    const session = (await (await platform.api('/api/sessions/nul-session')).json()) as { name: string; tags: unknown };
    expect(session).toMatchObject({ name: 'nul-session', tags: {} });
  });

  it('bounds session tags and metadata: 64 KiB as JSON, 32 levels', async () => {
    let nested: unknown = 1;
    for (let i = 0; i < 33; i++) nested = { n: nested };
    const cases = [
      { source_id: 'nul-1', tags: { big: 'x'.repeat(64 * 1024) } },
      { source_id: 'nul-1', metadata: nested },
      { source_id: 'nul-1', tags: ['not', 'an', 'object'] },
    ];
    for (const body of cases) {
      const answer = await expectError(await post('/api/sessions', JSON.stringify(body)), 400, 'INVALID_BODY');
      expect(answer.details?.[0].field).toMatch(/^(tags|metadata)$/);
    }
    expect(
      (await post('/api/sessions', JSON.stringify({ source_id: 'nul-1', tags: { ok: 'x'.repeat(1000) }, metadata: { a: { b: [1] } } })))
        .status,
    ).toBe(201);
  });
});

describe('error bodies carry a code (finding 14b)', () => {
  it('401 UNAUTHORIZED, 403 SCOPE_MISSING, 404 NOT_FOUND, SESSION_NOT_FOUND, 400 INVALID_BODY, 415, 413', async () => {
    await expectError(await platform.api('/api/sessions', { key: null }), 401, 'UNAUTHORIZED');
    await expectError(await platform.api('/api/keys', { key: await platform.createKey(['read']) }), 403, 'SCOPE_MISSING');
    await expectError(await platform.api('/api/no-such-route'), 404, 'NOT_FOUND');
    await expectError(await platform.api('/api/sessions/no-such-session'), 404, 'SESSION_NOT_FOUND');
    await expectError(await post('/api/sessions', '{"source_id":'), 400, 'INVALID_BODY');
    await expectError(await post('/api/sessions', ''), 400, 'INVALID_BODY');
    await expectError(
      await post('/api/sessions', 'source_id=x', { headers: { 'content-type': 'text/plain' } }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    const many = JSON.stringify({ points: Array.from({ length: 10_001 }, () => ({ metric: 'm', value: 1, source_id: 'codes-1' })) });
    await expectError(await post('/api/ingest', many), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('describes the error shape, code included, in the OpenAPI document', async () => {
    const document = (await (await platform.api('/api/docs', { key: null })).json()) as {
      components: { schemas: Record<string, { required?: string[]; properties: Record<string, { enum?: string[] }> }> };
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(document.components.schemas.Error.required).toEqual(['statusCode', 'error', 'code', 'message']);
    expect(document.components.schemas.Error.properties.code.enum).toEqual(
      expect.arrayContaining(['INVALID_BODY', 'SCOPE_MISSING', 'REQUEST_TIMEOUT']),
    );
    expect(document.paths['/api/ingest'].post.responses.default).toBeDefined();
  });

  it('exports plexus_unexpected_errors_total', async () => {
    const metrics = await (await fetch(`${platform.gateway}/metrics`)).text();
    expect(metrics).toContain('# TYPE plexus_unexpected_errors_total counter');
  });
});

describe('listings that grow without bound answer under NATS max_payload, never a 5xx', () => {
  /** Control characters: JSON writes each as `\u0001`, 6 bytes, the costliest text on the wire. */
  const costliest = (length: number) => '\u0001'.repeat(length);

  it('an admin creating keys with the longest names stops at the per-org limit with 409 CONFLICT; the list still answers', async () => {
    const admin = await platform.createKey(['admin'], 'flooded');
    await platform.db.query(
      `INSERT INTO api_keys (org_id, name, key_hash, prefix, scopes)
       SELECT 'flooded', $1, md5('flooded' || i) || md5(i::text), 'plx_AbCdEf', ARRAY['write','read','control','admin']
       FROM generate_series(3, $2::int) AS i`,
      [costliest(KEY_LIMITS.maxNameLength), KEY_LIMITS.maxActivePerOrg],
    );
    const create = () =>
      post('/api/keys', JSON.stringify({ name: costliest(KEY_LIMITS.maxNameLength), scopes: ['write', 'read', 'control', 'admin'] }), {
        key: admin,
      });
    expect((await create()).status).toBe(201);
    await expectError(await create(), 409, 'CONFLICT');
    const listing = await platform.api('/api/keys', { key: admin });
    expect(listing.status).toBe(200);
    const { keys, truncated } = (await listing.json()) as { keys: unknown[]; truncated: boolean };
    expect([keys.length, truncated]).toEqual([KEY_LIMITS.maxActivePerOrg, false]);
  });

  it('GET /api/audit/commands?limit=1000 over entries of the largest commands answers 200 with what fits, truncated', async () => {
    const admin = await platform.createKey(['admin'], 'audited');
    await platform.db.query(
      `INSERT INTO command_audit (org_id, key_id, source_id, command_id, command)
       SELECT 'audited', gen_random_uuid(), 'lab.0', 'cmd-' || i, $1 FROM generate_series(1, 1000) AS i`,
      [costliest(8192)],
    );
    const response = await platform.api('/api/audit/commands?limit=1000', { key: admin });
    expect(response.status).toBe(200);
    const { commands, truncated } = (await response.json()) as { commands: Array<{ command: string }>; truncated: boolean };
    expect(truncated).toBe(true);
    // About 48 KiB each as JSON: 15 fit under the 768 KiB bound (docs/api.md says so).
    expect(commands.length).toBeGreaterThanOrEqual(15);
    expect(commands.every((entry) => entry.command === costliest(8192))).toBe(true);
  });

  // The 1,000 entries of the test before.
  it('GET /api/audit/commands follows next_cursor through every entry cut by bytes, each once, newest first', async () => {
    const admin = await platform.createKey(['admin'], 'audited');
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const response = await platform.api(`/api/audit/commands?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
        key: admin,
      });
      expect(response.status).toBe(200);
      const page = (await response.json()) as { commands: Array<{ id: string }>; next_cursor: string | null };
      ids.push(...page.commands.map((entry) => entry.id));
      cursor = page.next_cursor;
    } while (cursor && ++pages < 200);
    const { rows } = await platform.db.query(`SELECT id FROM command_audit WHERE org_id = 'audited' ORDER BY started_at DESC, id DESC`);
    expect(ids).toEqual(rows.map((row: { id: string }) => row.id));
  });
});

describe('the audit cursor is client input (GET /api/audit/commands?cursor=)', () => {
  const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it.each<[string, string]>([
    ['empty', ''],
    ['not base64url', 'not%20a%20cursor'],
    ['base64url of text', Buffer.from('hello').toString('base64url')],
    ['a forged position', forged(['2026-01-01 00:00:00+00', '00000000-0000-4000-8000-000000000000'])],
    ['an impossible date', forged(['2026-02-30 00:00:00+00', '00000000-0000-4000-8000-000000000000'])],
    ['SQL', encodeURIComponent(`' OR 1=1 --`)],
    ['513 characters', 'A'.repeat(513)],
    ['4,000 characters', 'A'.repeat(4000)],
    ['a lone surrogate, percent-encoded', '%ED%A0%80'],
    ['given twice', 'abc&cursor=def'],
  ])('refuses a cursor that is %s: 400 BAD_REQUEST naming cursor', async (_, cursor) => {
    const answer = await expectError(await platform.api(`/api/audit/commands?cursor=${cursor}`), 400, 'BAD_REQUEST');
    expect(answer.message.length).toBeLessThan(300);
    expect(answer.details?.[0].field).toBe('cursor');
  });

  it("refuses another org's cursor and never shows that org's entries", async () => {
    const other = await platform.createKey(['admin'], 'audit-other');
    await platform.db.query(
      `INSERT INTO command_audit (org_id, key_id, source_id, command_id, command)
       SELECT 'audit-other', gen_random_uuid(), 'lab.0', 'secret-' || i, 'cat /secret' FROM generate_series(1, 3) AS i`,
    );
    const page = (await (await platform.api('/api/audit/commands?limit=1', { key: other })).json()) as { next_cursor: string };
    expect(page.next_cursor).toEqual(expect.any(String));
    const answer = await expectError(await platform.api(`/api/audit/commands?limit=1&cursor=${page.next_cursor}`), 400, 'BAD_REQUEST');
    expect(answer.details?.[0].field).toBe('cursor');
    expect(answer.message).not.toContain('secret');
  });
});

describe('API key names: one rule at the gateway and in pairing (1 to 128 code points)', () => {
  const createKey = (name: string) => post('/api/keys', JSON.stringify({ name, scopes: ['read'] }));

  it.each<[string, string]>([
    ['128 astral emoji (256 UTF-16 units)', '\u{1F600}'.repeat(128)],
    ['64 letters with a combining accent', 'e\u0301'.repeat(64)],
    ['64 hearts with a variation selector', '\u2764\ufe0f'.repeat(64)],
    ['128 control characters', '\u0001'.repeat(128)],
  ])('takes a name of %s: 201, stored as sent', async (_, name) => {
    const response = await createKey(name);
    expect(response.status).toBe(201);
    const created = (await response.json()) as { id: string; name: string };
    expect(created.name).toBe(name);
    expect((await platform.api(`/api/keys/${created.id}`, { method: 'DELETE' })).status).toBe(200);
  });

  it.each<[string, string, RegExp]>([
    ['129 astral emoji', '\u{1F600}'.repeat(129), /128 characters \(Unicode code points\)/],
    ['128 letters and one combining accent', 'e'.repeat(128) + '\u0301', /128 characters \(Unicode code points\)/],
    ['65 hearts with a variation selector (130 code points)', '\u2764\ufe0f'.repeat(65), /128 characters \(Unicode code points\)/],
    ['only whitespace', ' \t ', /not only whitespace/],
    ['empty', '', /not only whitespace/],
  ])('refuses a name of %s: 400 INVALID_BODY naming name', async (_, name, problem) => {
    const answer = await expectError(await createKey(name), 400, 'INVALID_BODY');
    expect(answer.details?.[0]).toMatchObject({ field: 'name' });
    expect(answer.message).toMatch(problem);
  });

  it.each<[string, string, string]>([
    ['NUL', '{"name":"ci\\u0000","scopes":["read"]}', 'must not contain NUL'],
    ['a lone high surrogate', '{"name":"ci\\ud83d","scopes":["read"]}', 'valid Unicode'],
    ['a lone low surrogate before an emoji', '{"name":"\\ude00\\ud83d\\ude00","scopes":["read"]}', 'valid Unicode'],
  ])('refuses a name with %s: 400 INVALID_BODY naming name', async (_, body, reason) => {
    const answer = await expectError(await post('/api/keys', body), 400, 'INVALID_BODY');
    expect(answer.details?.[0]).toMatchObject({ field: 'name' });
    expect(answer.message).toContain(reason);
  });
});
