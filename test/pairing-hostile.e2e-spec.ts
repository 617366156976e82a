import { createHash, createHmac, randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Platform } from './support/platform.js';

// Issue 10, findings 5b (takeover by pair/complete), 6 (the guess limit raced) and 12 (codes as
// plain SHA-256). Guessing runs on gateway copies of their own, so each starts with a clean count.
let platform: Platform;
let nc: NatsConnection;

beforeAll(async () => {
  platform = await Platform.start({ apps: ['pairing', 'ingest', 'gateway'], env: { PLEXUS_PAIRING_FAILURES_PER_ADDRESS: '10' } });
  nc = await connect({ servers: platform.env.NATS_URL });
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await platform?.stop();
});

async function json(response: Response, status: number): Promise<any> {
  const body = await response.json();
  expect({ status: response.status, body }).toMatchObject({ status });
  return body;
}

async function newCode(body: Record<string, unknown> = {}): Promise<string> {
  return (await json(await platform.api('/api/sources/pair', { method: 'POST', body: JSON.stringify(body) }), 201)).code;
}

function completePairing(body: unknown, base = platform.gateway, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/api/sources/pair/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

function verifyDevice(token: string): Promise<Response> {
  return fetch(`${platform.gateway}/api/auth/verify-device`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ device_token: token }),
  });
}

describe('re-pairing a source needs a code made for it (finding 5b)', () => {
  it('answers 409 to a fresh code with the source_id of a paired source, and leaves its token and the code alone', async () => {
    const owner = await json(await completePairing({ code: await newCode(), source_id: 'victim-1' }), 200);
    const intruderCode = await newCode();
    const refused = await json(await completePairing({ code: intruderCode, source_id: 'victim-1', name: 'evil' }), 409);
    expect(refused.message).toMatch(/already paired/);
    expect(await json(await verifyDevice(owner.device_token), 200)).toEqual({ valid: true, org_id: 'default', source_id: 'victim-1' });
    // Refused whole: the source keeps its name and the code was not spent.
    const { sources } = await json(await platform.api('/api/sources'), 200);
    expect(sources.find((s: { source_id: string }) => s.source_id === 'victim-1').name).toBe('victim-1');
    expect(await json(await platform.api(`/api/sources/pair?code=${intruderCode}`), 200)).toMatchObject({ status: 'pending' });
  });

  it('re-pairs a source with a code an admin made for it: the old token is refused and its socket told to go', async () => {
    const old = await json(await completePairing({ code: await newCode(), source_id: 'victim-2' }), 200);
    const created = await json(
      await platform.api('/api/sources/pair', { method: 'POST', body: JSON.stringify({ source_id: 'victim-2' }) }),
      201,
    );
    expect(created).toMatchObject({ code: expect.any(String), source_id: 'victim-2' });
    const revoked = nc.subscribe(platform.subjects.sources.revoked, { max: 1 });
    // Registered at the server before the event can be published, or the event may pass unseen.
    await nc.flush();
    // Exactly what the Python agent sends: the bound code alone names the source.
    const renewed = await json(await completePairing({ code: created.code }), 200);
    expect(renewed).toMatchObject({ source_id: 'victim-2', org_id: 'default', device_token: expect.stringMatching(/^plxd_/) });
    expect(renewed.device_token).not.toBe(old.device_token);
    await json(await verifyDevice(old.device_token), 401);
    expect(await json(await verifyDevice(renewed.device_token), 200)).toMatchObject({ source_id: 'victim-2' });
    for await (const msg of revoked) expect(msg.json()).toEqual({ org_id: 'default', source_id: 'victim-2' });
  });

  it('answers 409 to a code bound to one source used with another source_id, and 200 with its own', async () => {
    await json(await completePairing({ code: await newCode(), source_id: 'victim-3' }), 200);
    const bound = await newCode({ source_id: 'victim-3' });
    const refused = await json(await completePairing({ code: bound, source_id: 'someone-else' }), 409);
    expect(refused.message).toMatch(/victim-3/);
    expect(await json(await completePairing({ code: bound, source_id: 'victim-3', name: 'Victim three' }), 200)).toMatchObject({
      source_id: 'victim-3',
      source_name: 'Victim three',
    });
  });

  it('refuses a code for a source that does not exist (404) or a malformed source_id (400)', async () => {
    expect(
      (await json(await platform.api('/api/sources/pair', { method: 'POST', body: JSON.stringify({ source_id: 'nobody-here' }) }), 404))
        .message,
    ).toMatch(/nobody-here/);
    await json(await platform.api('/api/sources/pair', { method: 'POST', body: JSON.stringify({ source_id: '../etc' }) }), 400);
  });
});

describe('text PostgreSQL cannot store', () => {
  it('answers 400 naming the field to a NUL or a lone surrogate in a name or platform, and spends no code', async () => {
    for (const name of ['a\u0000b', 'x\ud800', '\udfffy']) {
      const refused = await json(await platform.api('/api/sources/pair', { method: 'POST', body: JSON.stringify({ name }) }), 400);
      expect(refused.details).toEqual([expect.objectContaining({ field: 'name' })]);
    }
    const code = await newCode();
    expect((await json(await completePairing({ code, platform: 'Linux\u0000' }), 400)).details).toEqual([
      expect.objectContaining({ field: 'platform' }),
    ]);
    expect(await json(await platform.api(`/api/sources/pair?code=${code}`), 200)).toMatchObject({ status: 'pending' });
  });
});

describe('stored pairing codes (finding 12)', () => {
  it('stores a code as HMAC-SHA256 under the server secret, never as its plain SHA-256', async () => {
    const code = await newCode();
    const sha256 = createHash('sha256').update(code).digest('hex');
    expect(await platform.count(`SELECT count(*) FROM pairing_codes WHERE code_hash = $1`, [sha256])).toBe(0);
    const { rows } = await platform.db.query(`SELECT value FROM settings WHERE name = 'pairing_code_secret'`);
    expect(rows[0].value).toMatch(/^[0-9a-f]{64}$/);
    const hmac = createHmac('sha256', rows[0].value).update(code).digest('hex');
    expect(await platform.count(`SELECT count(*) FROM pairing_codes WHERE code_hash = $1`, [hmac])).toBe(1);
  });
});

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const wrongCode = () => Array.from({ length: 6 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

/** Sends wrong codes all at once and counts the answers by status. */
async function guess(base: string, count: number, headers: Record<string, string> = {}): Promise<Record<number, number>> {
  const responses = await Promise.all(Array.from({ length: count }, () => completePairing({ code: wrongCode() }, base, headers)));
  const statuses: Record<number, number> = {};
  for (const response of responses) {
    statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    if (response.status === 429) expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    await response.arrayBuffer();
  }
  return statuses;
}

async function gatewayCopy(label: string, env: Record<string, string> = {}): Promise<string> {
  return `http://127.0.0.1:${await platform.startCopy('gateway', label, env)}`;
}

describe('the pairing guess limit counts before it answers (finding 6)', () => {
  it('gives 300 concurrent wrong codes from one address at most 10 answers of 404, the rest 429', async () => {
    const gateway = await gatewayCopy('gateway-guessed');
    const statuses = await guess(gateway, 300);
    expect(Object.keys(statuses).sort()).toEqual(['404', '429']);
    expect(statuses[404]).toBeLessThanOrEqual(10);
    expect(statuses[404] + statuses[429]).toBe(300);
    // A right code is refused too from this address now: the limit holds until the window passes.
    expect((await completePairing({ code: await newCode() }, gateway)).status).toBe(429);
  }, 60_000);

  it('counts X-Forwarded-For addresses apart behind a trusted proxy (PLEXUS_TRUSTED_PROXIES)', async () => {
    const gateway = await gatewayCopy('gateway-proxied', { PLEXUS_TRUSTED_PROXIES: '127.0.0.1,::1' });
    const [first, second] = await Promise.all([
      guess(gateway, 12, { 'x-forwarded-for': '203.0.113.1' }),
      guess(gateway, 12, { 'x-forwarded-for': '203.0.113.2' }),
    ]);
    expect(first).toEqual({ 404: 10, 429: 2 });
    expect(second).toEqual({ 404: 10, 429: 2 });
    // Another client behind the same proxy is not punished for them.
    expect((await completePairing({ code: await newCode() }, gateway, { 'x-forwarded-for': '203.0.113.3' })).status).toBe(200);
  }, 60_000);

  it('ignores X-Forwarded-For without trusted proxies: every forged address counts as the socket’s', async () => {
    const gateway = await gatewayCopy('gateway-direct');
    const [first, second] = await Promise.all([
      guess(gateway, 12, { 'x-forwarded-for': '203.0.113.1' }),
      guess(gateway, 12, { 'x-forwarded-for': '203.0.113.2' }),
    ]);
    expect((first[404] ?? 0) + (second[404] ?? 0)).toBe(10);
    expect((first[429] ?? 0) + (second[429] ?? 0)).toBe(14);
  }, 60_000);

  it('limits wrong codes across all addresses (PLEXUS_PAIRING_FAILURES_PER_MINUTE)', async () => {
    const gateway = await gatewayCopy('gateway-crowded', {
      PLEXUS_TRUSTED_PROXIES: '127.0.0.1,::1',
      PLEXUS_PAIRING_FAILURES_PER_MINUTE: '15',
    });
    const all = await Promise.all(
      ['198.51.100.1', '198.51.100.2', '198.51.100.3'].map((address) => guess(gateway, 10, { 'x-forwarded-for': address })),
    );
    expect(all.reduce((sum, statuses) => sum + (statuses[404] ?? 0), 0)).toBe(15);
    expect(all.reduce((sum, statuses) => sum + (statuses[429] ?? 0), 0)).toBe(15);
    // A newcomer is refused too, by the server-wide count.
    expect((await json(await completePairing({ code: wrongCode() }, gateway, { 'x-forwarded-for': '198.51.100.9' }), 429)).message).toMatch(
      /on this server/,
    );
  }, 60_000);
});
