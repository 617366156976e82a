/**
 * A seeded mutation fuzzer of the gateway's HTTP API: valid requests to every endpoint with
 * one thing made hostile (wrong types, huge strings, deep nesting, NUL, lone surrogates as JSON
 * escapes, invalid UTF-8 bytes, bad percent-encoding, bad query parameters, wrong content types
 * and encodings). Deterministic for a seed, so a failure can be replayed.
 */

import { seededRandom as seeded } from './hostile.js';

export { seeded };

/** JSON text nested `depth` levels deep, built as text: JSON.stringify would itself overflow. */
export const deepJson = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;


interface Endpoint {
  method: string;
  path: string;
  body?: Record<string, unknown>;
  query?: Record<string, string>;
  key?: 'none';
}

/** Every HTTP endpoint of the gateway's controllers, each with a valid request to mutate. */
const ENDPOINTS: Endpoint[] = [
  { method: 'POST', path: '/api/ingest', body: { points: [{ metric: 'fz', value: 1.5, source_id: 'fuzz-1', tags: { a: 'b' }, session_id: 'fz-s' }] } },
  { method: 'POST', path: '/api/sessions', body: { session_id: 'fz-s', name: 'fuzz', source_id: 'fuzz-1', status: 'active', tags: { a: 1 }, metadata: { b: [1] } } },
  { method: 'PATCH', path: '/api/sessions/{id}', body: { status: 'completed', ended_at: '2024-01-01T00:00:00Z', name: 'n', tags: { a: 1 } } },
  { method: 'GET', path: '/api/sessions', query: { source_id: 'fuzz-1', status: 'active', limit: '10', cursor: 'abc' } },
  { method: 'GET', path: '/api/sessions/{id}' },
  { method: 'GET', path: '/api/sessions/{id}/export', query: { format: 'csv' } },
  { method: 'GET', path: '/api/query', query: { source_id: 'fuzz-1', metric: 'fz', from: '2024-01-01', to: '1800000000', bucket: '1m', agg: 'avg', limit: '10' } },
  { method: 'GET', path: '/api/sources' },
  { method: 'DELETE', path: '/api/sources/{id}' },
  { method: 'POST', path: '/api/sources/pair', body: { name: 'fuzz-pi' } },
  { method: 'GET', path: '/api/sources/pair', query: { code: 'ABC234' } },
  { method: 'POST', path: '/api/sources/pair/complete', body: { code: 'ABC234', source_id: 'fuzz-9', name: 'n', platform: 'linux' }, key: 'none' },
  { method: 'GET', path: '/api/auth/verify-key' },
  { method: 'POST', path: '/api/auth/verify-device', body: { device_token: 'plxd_' + 'a'.repeat(40) }, key: 'none' },
  { method: 'POST', path: '/api/keys', body: { name: 'fuzz', scopes: ['read'] } },
  { method: 'GET', path: '/api/keys' },
  { method: 'DELETE', path: '/api/keys/{id}' },
  { method: 'GET', path: '/api/audit/commands', query: { limit: '5' } },
  { method: 'GET', path: '/api/config', key: 'none' },
  { method: 'GET', path: '/setup', key: 'none' },
  { method: 'GET', path: '/vendor/{id}', key: 'none' },
  { method: 'GET', path: '/assets/{id}', key: 'none' },
  { method: 'GET', path: '/health', key: 'none' },
];

const HOSTILE_TEXTS = [
  '',
  '\u0000',
  'a\u0000b',
  'x'.repeat(100_000),
  '😀',
  '\u202e\u0007\u001b[31m',
  '../../etc/passwd',
  '%00',
  "'; DROP TABLE points; --",
  '9'.repeat(400),
];
/** As JSON text: lone surrogates must be written as escapes (JSON.stringify would too). */
const HOSTILE_JSON = [
  '"\\ud800"',
  '"a\\udfffb"',
  '{"k\\ud800":1}',
  'null',
  'true',
  '-1',
  '1e309',
  '-0',
  '99999999999999999999999',
  '[]',
  '{}',
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
  deepJson(10_000),
  '{"__proto__":{"admin":true}}',
  '{"constructor":{"prototype":{"x":1}}}',
  ...HOSTILE_TEXTS.map((text) => JSON.stringify(text)),
];
const HOSTILE_PATH_PARTS = ['%00', '%', '%zz', '%E0%A4', '%ED%A0%80', '%FF', 'x'.repeat(2000), '..%2F..%2F', '%2e%2e', 'a%20b', '%C0%AF', '😀', encodeURIComponent('\u0000'), '%25'];
const CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/xml', '', 'application/json'];

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** One mutated request: a valid one with one thing (or a few) made hostile. */
export function mutate(random: () => number, adminKey: string): FuzzRequest {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const endpoint = pick(ENDPOINTS);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (endpoint.key !== 'none' || random() < 0.2) headers['x-api-key'] = random() < 0.9 ? adminKey : pick(['', 'plx_bad', `plx_${'\u00e9'.repeat(40)}`, 'x'.repeat(5000)]).replace(/[^\x20-\x7e]/g, '?');
  const id = random() < 0.5 ? pick(HOSTILE_PATH_PARTS) : pick(['fz-s', 'fuzz-1', 'nul-session', 'k-1']);
  let path = endpoint.path.replace('{id}', id);
  const query = { ...endpoint.query };
  const kind = random();
  if (endpoint.query && kind < 0.5) {
    const name = random() < 0.8 ? pick(Object.keys(query)) : pick(['limit', 'x', '__proto__', '%00']);
    query[name] = pick([...HOSTILE_TEXTS.slice(0, 4), '-1', '0', '1e309', 'NaN', '99999999999999999999999', '999999999999h', '0ms', '2024-02-30', '+275760-09-13T00:00:00.000Z', '%']);
  }
  const search = Object.entries(query)
    .map(([name, value]) => `${encodeURIComponent(name)}=${random() < 0.2 ? pick(['%', '%zz', '%E0%A4', '%00']) : encodeURIComponent(value)}`)
    .join('&');
  if (search) path += `?${search}${random() < 0.1 ? `&${Object.keys(query)[0]}=again` : ''}`;
  if (random() < 0.1) headers['idempotency-key'] = pick(['', ' ', 'k'.repeat(300), '\t', 'a b', '"quoted"', '🙂'.replace(/[^\x20-\x7e]/g, '?')]);
  if (random() < 0.05) headers['x-correlation-id'] = pick(['', 'x'.repeat(1000), '../..', 'a b']);
  if (endpoint.method === 'GET' || endpoint.method === 'DELETE') return { method: endpoint.method, path, headers };

  let bodyText = JSON.stringify(endpoint.body ?? {});
  const mutation = random();
  if (mutation < 0.45 && endpoint.body) {
    // Replace, nest or delete one field, at the top or inside a point.
    const target = endpoint.path === '/api/ingest' ? (endpoint.body.points as Array<Record<string, unknown>>)[0] : endpoint.body;
    const field = random() < 0.85 ? pick(Object.keys(target)) : pick(['unknown', '__proto__', 'org_id', '\u0000']);
    const marker = '"__HOSTILE__"';
    const mutated = { ...target, [field]: '__HOSTILE__' };
    const inner = random() < 0.2 ? `{"nested":[${pick(HOSTILE_JSON)}]}` : pick(HOSTILE_JSON);
    const whole = endpoint.path === '/api/ingest' ? { points: [mutated] } : mutated;
    bodyText = random() < 0.1 ? JSON.stringify(endpoint.path === '/api/ingest' ? { points: [{ ...target, [field]: undefined }] } : { ...target, [field]: undefined }) : JSON.stringify(whole).replace(marker, inner);
  } else if (mutation < 0.6) {
    bodyText = pick(HOSTILE_JSON);
  } else if (mutation < 0.7) {
    bodyText = bodyText.slice(0, Math.floor(random() * bodyText.length));
  } else if (mutation < 0.78) {
    // Invalid UTF-8 bytes inside a string.
    const bytes = Buffer.from(bodyText);
    const at = bodyText.indexOf('"', 2) + 1;
    return { method: endpoint.method, path, headers, body: Buffer.concat([bytes.subarray(0, at), Buffer.from([pick([0xff, 0xc0, 0xed, 0x80]), 0xa0, 0x80]), bytes.subarray(at)]) };
  } else if (mutation < 0.88) {
    headers['content-type'] = pick(CONTENT_TYPES);
    if (!headers['content-type']) delete headers['content-type'];
  } else if (mutation < 0.93) {
    headers['content-encoding'] = pick(['gzip', 'deflate', 'br', 'identity, gzip']);
  }
  return { method: endpoint.method, path, headers, body: bodyText };
}
