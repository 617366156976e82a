import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';

let platform: Platform;
let nc: NatsConnection;
const secrets: string[] = [];

beforeAll(async () => {
  platform = await Platform.start({ apps: ['pairing', 'ingest', 'gateway'] });
  nc = await connect({ servers: platform.env.NATS_URL });
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await platform?.stop();
});

/** A code as the pairing app stores it: HMAC-SHA256 under the secret it generated and kept in `settings`. */
async function storedCodeHash(code: string): Promise<string> {
  const { rows } = await platform.db.query(`SELECT value FROM settings WHERE name = 'pairing_code_secret'`);
  return createHmac('sha256', rows[0].value).update(code.toUpperCase()).digest('hex');
}

async function json(response: Response, status: number): Promise<any> {
  const body = await response.json();
  expect({ status: response.status, body }).toMatchObject({ status });
  return body;
}

async function newCode(name?: string): Promise<string> {
  const created = await json(await platform.api('/api/sources/pair', { method: 'POST', body: JSON.stringify(name ? { name } : {}) }), 201);
  secrets.push(created.code);
  return created.code;
}

/** Exactly what the Python plexus-agent 0.3.x sends. */
function completePairing(body: unknown): Promise<Response> {
  return fetch(`${platform.gateway}/api/sources/pair/complete`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('pairing codes', () => {
  it('mints a 6-character code from the unambiguous alphabet, valid 10 minutes, pending until used', async () => {
    const created = await json(
      await platform.api('/api/sources/pair', { method: 'POST', body: JSON.stringify({ name: 'Bench rig' }) }),
      201,
    );
    expect(created.code).toMatch(/^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6}$/);
    const ttl = Date.parse(created.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(9 * 60_000);
    expect(ttl).toBeLessThanOrEqual(10 * 60_000);
    expect(await json(await platform.api(`/api/sources/pair?code=${created.code}`), 200)).toMatchObject({ status: 'pending' });
  });

  it('pairs the Python agent’s exact request once and answers what it saves; a second use gets 410', async () => {
    const code = await newCode('Lab Pi');
    const response = await completePairing({ code: code.toUpperCase().trim() });
    const paired = await json(response, 200);
    expect(paired).toEqual({
      device_token: expect.stringMatching(/^plxd_[A-Za-z0-9]{40}$/),
      source_id: expect.stringMatching(/^lab-pi-[0-9a-f]{4}$/),
      org_id: 'default',
      source_name: 'Lab Pi',
      endpoint: platform.gateway,
      ws_url: `ws://127.0.0.1:${platform.ports.realtime}`,
    });
    secrets.push(paired.device_token);
    expect(await json(await platform.api(`/api/sources/pair?code=${code}`), 200)).toMatchObject({
      status: 'paired',
      source_id: paired.source_id,
    });
    const again = await json(await completePairing({ code }), 410);
    expect(again.message).toMatch(/already used/);

    const sources = await json(await platform.api('/api/sources'), 200);
    expect(sources.sources).toContainEqual(
      expect.objectContaining({ source_id: paired.source_id, name: 'Lab Pi', online: false, sensors: [] }),
    );
  });

  it('accepts a lower-case code, a chosen source_id, name and platform', async () => {
    const code = await newCode();
    const paired = await json(
      await completePairing({ code: code.toLowerCase(), source_id: 'rig-42', name: 'Rig 42', platform: 'Linux' }),
      200,
    );
    expect(paired).toMatchObject({ source_id: 'rig-42', source_name: 'Rig 42' });
    secrets.push(paired.device_token);
    const { sources } = await json(await platform.api('/api/sources'), 200);
    expect(sources).toContainEqual(expect.objectContaining({ source_id: 'rig-42', platform: 'Linux' }));
  });

  it('answers 410 for an expired code, in status and on completion', async () => {
    const code = await newCode();
    await platform.db.query(`UPDATE pairing_codes SET expires_at = now() - interval '1 second' WHERE code_hash = $1`, [
      await storedCodeHash(code),
    ]);
    expect((await json(await platform.api(`/api/sources/pair?code=${code}`), 410)).message).toMatch(/expired/);
    expect((await json(await completePairing({ code }), 410)).message).toMatch(/expired/);
  });

  it('needs an admin key to mint or check codes', async () => {
    const writer = await platform.createKey(['write', 'read', 'control']);
    await json(await platform.api('/api/sources/pair', { method: 'POST', body: '{}', key: writer }), 403);
    await json(await platform.api('/api/sources/pair', { method: 'POST', body: '{}', key: null }), 401);
  });
});

describe('device tokens and sources', () => {
  it('verifies a device token over HTTP and refuses it within a second of DELETE /api/sources/{id}', async () => {
    const paired = await json(await completePairing({ code: await newCode('Doomed') }), 200);
    secrets.push(paired.device_token);
    const verify = () =>
      fetch(`${platform.gateway}/api/auth/verify-device`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ device_token: paired.device_token }),
      });
    expect(await json(await verify(), 200)).toEqual({ valid: true, org_id: 'default', source_id: paired.source_id });

    const revokedEvents = nc.subscribe(platform.subjects.sources.revoked, { max: 1 });
    // Registered at the server before the event can be published, or the event may pass unseen.
    await nc.flush();
    await json(await platform.api(`/api/sources/${paired.source_id}`, { method: 'DELETE' }), 200);
    await waitFor('the token to be refused', async () => (await verify()).status === 401, 1000);
    for await (const msg of revokedEvents) expect(msg.json()).toEqual({ org_id: 'default', source_id: paired.source_id });
    expect((await platform.api(`/api/sources/${paired.source_id}`, { method: 'DELETE' })).status).toBe(404);
    await json(
      await fetch(`${platform.gateway}/api/auth/verify-device`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ device_token: 'plxd_' + 'x'.repeat(40) }),
      }),
      401,
    );
  });

  it('creates a source on its first telemetry from an API key and keeps its last-seen time', async () => {
    expect((await platform.ingest([{ metric: 'm', value: 1, source_id: 'http-only-1' }])).status).toBe(200);
    const source = await waitFor('the source to appear', async () => {
      const { sources } = await json(await platform.api('/api/sources'), 200);
      return sources.find((s: { source_id: string }) => s.source_id === 'http-only-1');
    });
    expect(Date.parse(source.last_seen)).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe('API keys', () => {
  it('creates a key shown once, lists it without the key, and revokes it everywhere within a second', async () => {
    const created = await json(
      await platform.api('/api/keys', { method: 'POST', body: JSON.stringify({ name: 'ci', scopes: ['write', 'read'] }) }),
      201,
    );
    expect(created).toMatchObject({
      id: expect.any(String),
      key: expect.stringMatching(/^plx_[A-Za-z0-9]{40}$/),
      prefix: created.key.slice(0, 10),
      scopes: ['write', 'read'],
    });
    secrets.push(created.key);
    expect((await platform.ingest([{ metric: 'm', value: 1, source_id: 'k' }], { key: created.key })).status).toBe(200);
    // last_used_at is written after the verification answers (it is informational): wait for it.
    let keys: Array<{ id: string; last_used_at: string | null }> = [];
    const listed = await waitFor('the key listed with its last use', async () => {
      ({ keys } = await json(await platform.api('/api/keys'), 200));
      return keys.find((k) => k.id === created.id && k.last_used_at !== null);
    });
    expect(listed).toEqual({
      id: created.id,
      name: 'ci',
      prefix: created.prefix,
      scopes: ['write', 'read'],
      created_at: expect.any(String),
      last_used_at: expect.any(String),
    });
    expect(JSON.stringify(keys)).not.toContain(created.key);

    await json(await platform.api(`/api/keys/${created.id}`, { method: 'DELETE' }), 200);
    await waitFor(
      'the revoked key to be refused',
      async () => (await platform.ingest([{ metric: 'm', value: 2, source_id: 'k' }], { key: created.key })).status === 401,
      1000,
    );
    expect((await platform.api(`/api/keys/${created.id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('rejects bad scopes, non-admin callers, and keys for another org', async () => {
    await json(await platform.api('/api/keys', { method: 'POST', body: JSON.stringify({ name: 'x', scopes: ['root'] }) }), 400);
    await json(await platform.api('/api/keys', { method: 'POST', body: JSON.stringify({ name: 'x', scopes: [] }) }), 400);
    const reader = await platform.createKey(['read']);
    await json(
      await platform.api('/api/keys', { method: 'POST', body: JSON.stringify({ name: 'x', scopes: ['read'] }), key: reader }),
      403,
    );
    await json(
      await platform.api('/api/keys', { method: 'POST', body: JSON.stringify({ name: 'x', scopes: ['read'], org_id: 'other-org' }) }),
      403,
    );
  });
});

describe('org isolation', () => {
  it('keeps org B away from org A’s sources, sessions, points and keys', async () => {
    expect(
      (await platform.ingest([{ metric: 'secret', value: 42, timestamp: 1700000000, source_id: 'a-only', session_id: 'a-session' }]))
        .status,
    ).toBe(200);
    await platform.drained();
    const orgB = await platform.createKey(['admin'], 'org-b');
    const { sources } = await json(await platform.api('/api/sources', { key: orgB }), 200);
    expect(sources).toEqual([]);
    expect((await json(await platform.api('/api/sessions', { key: orgB }), 200)).sessions).toEqual([]);
    await json(await platform.api('/api/sessions/a-session', { key: orgB }), 404);
    expect((await platform.api('/api/sessions/a-session/export', { key: orgB })).status).toBe(404);
    await json(
      await platform.api('/api/sessions/a-session', { method: 'PATCH', body: JSON.stringify({ status: 'failed' }), key: orgB }),
      404,
    );
    expect((await json(await platform.api('/api/query?source_id=a-only&metric=secret', { key: orgB }), 200)).points).toEqual([]);
    await json(await platform.api('/api/sources/a-only', { method: 'DELETE', key: orgB }), 404);
    const keysOfA = (await json(await platform.api('/api/keys'), 200)).keys;
    const keysOfB = (await json(await platform.api('/api/keys', { key: orgB }), 200)).keys;
    expect(keysOfB.map((k: { id: string }) => k.id)).not.toContain(keysOfA[0].id);
    await json(await platform.api(`/api/keys/${keysOfA[0].id}`, { method: 'DELETE', key: orgB }), 404);
    // B's writes land in B: A's query of the same source and metric does not see them.
    expect(
      (await platform.ingest([{ metric: 'secret', value: 7, timestamp: 1700000001, source_id: 'a-only' }], { key: orgB })).status,
    ).toBe(200);
    await platform.drained();
    expect((await json(await platform.api('/api/query?source_id=a-only&metric=secret'), 200)).points).toEqual([
      { timestamp: 1700000000, value: 42, session_id: 'a-session' },
    ]);
  });
});

describe('a fleet larger than one NATS message', () => {
  it('lists 20,000 sources over HTTP, all of them with their fields, in the order PostgreSQL keeps', async () => {
    const FLEET = 20_000;
    // Straight into the pairing app's table: ~300 bytes a source, some 6 MB in all, six times
    // NATS's 1 MiB max_payload. Times a microsecond apart, three sources a microsecond, so the
    // listing's pages must keep PostgreSQL's microseconds and break ties by id.
    const key = await platform.createKey(['read'], 'fleet');
    await platform.db.query(
      `INSERT INTO sources (org_id, id, name, platform, sensors, cameras, created_at, last_seen_at)
       SELECT 'fleet', 'dev-' || lpad(((i * 7919) % $1)::text, 5, '0'), 'Device ' || i || ' — grüße',
              CASE WHEN i % 2 = 0 THEN 'linux-arm64' END,
              jsonb_build_array(jsonb_build_object('name', 'imu', 'description', 'accelerometer and gyroscope',
                'metrics', jsonb_build_array('accel_x', 'accel_y', 'accel_z'), 'sample_rate', 100, 'prefix', 'imu', 'available', true)),
              '[]'::jsonb,
              '2026-01-01T00:00:00Z'::timestamptz + (i / 3) * interval '1 microsecond',
              CASE WHEN i % 5 = 0 THEN '2026-06-01T00:00:00.123456Z'::timestamptz END
         FROM generate_series(0, $1 - 1) AS i`,
      [FLEET],
    );
    const { rows: expected } = await platform.db.query<{ id: string; bytes: number }>(
      `SELECT id, octet_length(row_to_json(s)::text) AS bytes FROM sources s WHERE org_id = 'fleet' ORDER BY created_at, id`,
    );
    expect(expected.reduce((sum, row) => sum + row.bytes, 0)).toBeGreaterThan(4 * 1024 * 1024);

    const { sources } = await json(await platform.api('/api/sources', { key }), 200);
    expect(sources).toHaveLength(FLEET);
    expect(sources.map((source: { source_id: string }) => source.source_id)).toEqual(expected.map((row) => row.id));
    const first = sources.find((source: { source_id: string }) => source.source_id === 'dev-00000');
    expect(first).toEqual({
      source_id: 'dev-00000',
      org_id: 'fleet',
      name: 'Device 0 — grüße',
      platform: 'linux-arm64',
      sensors: [
        {
          name: 'imu',
          description: 'accelerometer and gyroscope',
          metrics: ['accel_x', 'accel_y', 'accel_z'],
          sample_rate: 100,
          prefix: 'imu',
          available: true,
        },
      ],
      cameras: [],
      online: false,
      created_at: '2026-01-01T00:00:00.000Z',
      last_seen: '2026-06-01T00:00:00.123Z',
    });
    expect(sources.filter((source: { platform: string | null }) => source.platform === null)).toHaveLength(FLEET / 2);
    expect(sources.filter((source: { last_seen: string | null }) => source.last_seen !== null)).toHaveLength(FLEET / 5);
    // No other org's source, and the default org's list is still its own.
    expect(sources.every((source: { org_id: string }) => source.org_id === 'fleet')).toBe(true);
    const own = await json(await platform.api('/api/sources'), 200);
    expect(own.sources.some((source: { org_id: string }) => source.org_id !== 'default')).toBe(false);

    // The operators' one-reply subject says why it cannot answer, rather than timing out.
    const reply = (
      await nc.request(platform.subject('sources.list'), JSON.stringify({ org_id: 'fleet' }), { timeout: 10_000 })
    ).json<any>();
    expect(reply.err).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/20000 sources.*GET \/api\/sources/) });
  }, 60_000);
});

describe('operations over NATS', () => {
  const request = async (subject: string, body: unknown) =>
    (await nc.request(platform.subject(subject), JSON.stringify(body), { timeout: 5000 })).json<any>();

  it('answers each documented subject with plain JSON requests', async () => {
    const created = (await request('keys.create', { org_id: 'default', name: 'ops', scopes: ['read'] })).response;
    expect(created).toMatchObject({ key: expect.stringMatching(/^plx_/), scopes: ['read'], name: 'ops' });
    secrets.push(created.key);
    const listed = (await request('keys.list', { org_id: 'default' })).response;
    expect(listed.keys.map((k: { id: string }) => k.id)).toContain(created.id);
    expect((await request('keys.revoke', { org_id: 'default', key_id: created.id })).response).toEqual({ revoked: true, id: created.id });
    const code = (await request('pairing.code.create', { org_id: 'default', name: 'ops device' })).response;
    expect(code.code).toMatch(/^[A-Z2-9]{6}$/);
    secrets.push(code.code);
    const paired = await json(await completePairing({ code: code.code }), 200);
    secrets.push(paired.device_token);
    expect(
      (await request('sources.list', { org_id: 'default' })).response.sources.map((s: { source_id: string }) => s.source_id),
    ).toContain(paired.source_id);
    expect((await request('sources.revoke', { org_id: 'default', source_id: paired.source_id })).response).toEqual({
      revoked: true,
      source_id: paired.source_id,
    });
    expect((await request('sources.revoke', { org_id: 'default', source_id: paired.source_id })).err).toMatchObject({ code: 'NOT_FOUND' });
    expect((await request('keys.create', { name: 'no org', scopes: ['read'] })).err).toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/org_id/),
    });
  });
});

describe('npm run ops (the documented runnable example)', () => {
  it('prints the reply of an operations subject, and fails with the error for a bad request', async () => {
    const { spawnSync } = await import('node:child_process');
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['dist/scripts/ops.js', ...args], { env: platform.env, encoding: 'utf8', timeout: 20_000 });
    const ok = run('keys.create', JSON.stringify({ org_id: 'default', name: 'from-ops', scopes: ['write'] }));
    expect(ok.status).toBe(0);
    const created = JSON.parse(ok.stdout);
    expect(created).toMatchObject({ name: 'from-ops', scopes: ['write'], key: expect.stringMatching(/^plx_/) });
    secrets.push(created.key);
    const bad = run('keys.create', JSON.stringify({ org_id: 'default', name: 'x', scopes: ['root'] }));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('BAD_REQUEST');
  });
});

describe('what the database holds', () => {
  it('contains no plaintext token, key or code', async () => {
    expect(secrets.length).toBeGreaterThan(8);
    const { rows: tables } = await platform.db.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
    let dump = '';
    for (const { table_name } of tables) {
      const { rows } = await platform.db.query(`SELECT t::text AS row FROM ${table_name} t`);
      dump += rows.map((r) => r.row).join('\n');
    }
    expect(dump.length).toBeGreaterThan(1000);
    for (const secret of [...secrets, platform.adminKey]) expect(dump).not.toContain(secret);
  });
});

describe('guessing codes (last: it blocks this address)', () => {
  it('answers 404 for a wrong code, slows repeated wrong codes down, then refuses with 429 and Retry-After', async () => {
    const wrong = await json(await completePairing({ code: 'ZZZZZZ' }), 404);
    expect(wrong.message).toMatch(/not found/);
    let refused: Response | undefined;
    for (let attempt = 0; attempt < 20 && !refused; attempt++) {
      const response = await completePairing({ code: 'ZZZZZ2' });
      if (response.status === 429) refused = response;
      else expect(response.status).toBe(404);
    }
    expect(refused).toBeDefined();
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused!.json()).toMatchObject({ statusCode: 429 });
    // Even a right code is refused from this address now.
    expect((await completePairing({ code: await newCode() })).status).toBe(429);
  });
});
