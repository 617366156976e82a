import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { HOSTILE_STRINGS } from './support/hostile.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';
import { TestSocket } from './support/ws-client.js';

// Tenancy as an operation: orgs are created, listed and disabled over the NATS ops subjects, and a
// disabled org's keys and device tokens stop working everywhere within a second.
let platform: Platform;
let nc: NatsConnection;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  platform = await Platform.start();
  nc = await connect({ servers: platform.env.NATS_URL });
}, 120_000);

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await nc?.close();
  await platform?.stop();
});

const ops = async (subject: string, body: unknown) =>
  (await nc.request(platform.subject(subject), JSON.stringify(body), { timeout: 5000 })).json<any>();

async function json(response: Response, status: number): Promise<any> {
  const body = await response.json();
  expect({ status: response.status, body }).toMatchObject({ status });
  return body;
}

async function open(orgId: string): Promise<TestSocket> {
  const socket = await TestSocket.open(`ws://127.0.0.1:${platform.ports.realtime}/party/${orgId}`);
  sockets.push(socket);
  return socket;
}

async function connectDevice(orgId: string, token: string, sourceId: string): Promise<TestSocket> {
  const device = await open(orgId);
  device.send({ type: 'device_auth', device_token: token, source_id: sourceId, platform: 'Linux', sensors: [] });
  expect(await device.nextOfType('authenticated')).toEqual({ type: 'authenticated', source_id: sourceId });
  return device;
}

async function connectBrowser(orgId: string, key: string): Promise<TestSocket> {
  const browser = await open(orgId);
  browser.send({ type: 'browser_auth', api_key: key });
  expect(await browser.nextOfType('init')).toMatchObject({ org_id: orgId });
  return browser;
}

const verifyKey = (key: string) => platform.api('/api/auth/verify-key', { key });
const verifyDevice = (token: string) =>
  fetch(`${platform.gateway}/api/auth/verify-device`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ device_token: token }),
  });

describe('orgs over NATS', () => {
  it('creates an org with its first admin key shown once, refuses a bad or taken id, and lists orgs', async () => {
    const created = (await ops('orgs.create', { id: 'listed', name: 'Listed Ltd' })).response;
    expect(created).toEqual({
      id: 'listed',
      name: 'Listed Ltd',
      created_at: expect.any(String),
      disabled_at: null,
      admin_key: expect.objectContaining({ key: expect.stringMatching(/^plx_[A-Za-z0-9]{40}$/), scopes: ['admin'] }),
    });
    expect(await json(await verifyKey(created.admin_key.key), 200)).toMatchObject({ org_id: 'listed', scopes: ['admin'] });
    expect((await ops('orgs.create', { id: 'listed' })).err).toMatchObject({ code: 'CONFLICT' });
    for (const id of ['Upper', '-dash', 'a.b', 'x'.repeat(64), '', 42]) {
      expect((await ops('orgs.create', { id })).err).toMatchObject({ code: 'BAD_REQUEST' });
    }
    for (const name of HOSTILE_STRINGS) {
      const answer = await ops('orgs.create', { id: 'hostile-name', name });
      if (answer.err) expect(answer.err).toMatchObject({ code: 'BAD_REQUEST', details: [expect.objectContaining({ field: 'name' })] });
      else expect((await ops('orgs.disable', { id: answer.response.id })).response.name).toBe(name.trim());
      await platform.db.query(`DELETE FROM orgs WHERE id = 'hostile-name'`);
    }
    const { orgs } = (await ops('orgs.list', {})).response;
    expect(orgs.map((org: { id: string }) => org.id)).toEqual(expect.arrayContaining(['default', 'listed']));
    expect(orgs.find((org: { id: string }) => org.id === 'listed')).toEqual({
      id: 'listed',
      name: 'Listed Ltd',
      created_at: created.created_at,
      disabled_at: null,
    });
    // The plaintext key is nowhere but in that one answer.
    expect(JSON.stringify(orgs)).not.toContain(created.admin_key.key);
    expect((await ops('orgs.disable', { id: 'no-such-org' })).err).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('npm run ops -- orgs.create prints the first admin key once', () => {
    const run = spawnSync(process.execPath, ['dist/scripts/ops.js', 'orgs.create', JSON.stringify({ id: 'from-ops', name: 'From ops' })], {
      env: platform.env,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ id: 'from-ops', admin_key: { key: expect.stringMatching(/^plx_/) } });
    expect(run.stderr).toMatch(/shown once/);
  });

  it('npm run ops -- orgs.list follows next_cursor: an operator with more than 1,000 orgs sees every one, once', async () => {
    await platform.db.query(
      `INSERT INTO orgs (id, name) SELECT 'many-' || lpad(i::text, 4, '0'), 'Many ' || i FROM generate_series(1, 2500) AS i`,
    );
    try {
      const { rows } = await platform.db.query(`SELECT id FROM orgs ORDER BY created_at, id`);
      expect(rows.length).toBeGreaterThan(2500);
      // The pairing app answers in pages of 1,000: the first alone would leave out 1,500 and more.
      expect((await ops('orgs.list', {})).response.next_cursor).toEqual(expect.any(String));
      const run = spawnSync(process.execPath, ['dist/scripts/ops.js', 'orgs.list'], {
        env: platform.env,
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect([run.status, run.stderr]).toEqual([0, '']);
      const listing = JSON.parse(run.stdout) as { orgs: Array<{ id: string }>; next_cursor: string | null };
      expect(listing.next_cursor).toBeNull();
      expect(listing.orgs.map((org) => org.id)).toEqual(rows.map((row: { id: string }) => row.id));
    } finally {
      await platform.db.query(`DELETE FROM orgs WHERE id LIKE 'many-%'`);
    }
  });

  it('npm run ops refuses hostile arguments with a clear message and never hangs or crashes', () => {
    const ops = (...args: string[]) =>
      spawnSync(process.execPath, ['dist/scripts/ops.js', ...args], { env: platform.env, encoding: 'utf8', timeout: 20_000 });
    for (const name of ['no.such', 'orgs.>', '*', 'orgs.create.x', '\ud800', 'orgs.create\u202e', 'x'.repeat(100_000)]) {
      const run = ops(name, '{}');
      expect([name.slice(0, 20), run.status]).toEqual([name.slice(0, 20), 2]);
      expect(run.stderr).toMatch(/is not a Plexus subject/);
    }
    for (const body of ['not json', '{"id":', '\ud800', '']) {
      const run = ops('orgs.list', body);
      expect([body, run.status]).toEqual([body, 2]);
      expect(run.stderr).toMatch(/must be JSON/);
    }
    // Valid JSON the pairing app refuses (too deep, too long): an error reply, exit 1.
    for (const body of ['['.repeat(5000) + ']'.repeat(5000), JSON.stringify({ id: 'x'.repeat(100_000), name: 'n' })]) {
      const run = ops('orgs.create', body);
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/"code"/);
    }
  });
});

describe('disabling an org', () => {
  it('refuses its keys and device tokens within a second and closes its sockets with 4010; other orgs keep working', async () => {
    const acme = (await ops('orgs.create', { id: 'acme', name: 'Acme' })).response;
    const acmeKey: string = acme.admin_key.key;
    // Its admin key works over HTTP (and is now in the gateway's cache).
    expect(await json(await platform.api('/api/sources', { key: acmeKey }), 200)).toEqual({ sources: [] });
    const device = await platform.pairDevice('Acme rig', acmeKey);
    expect(device.org_id).toBe('acme');
    const deviceSocket = await connectDevice('acme', device.device_token, device.source_id);
    const browser = await connectBrowser('acme', acmeKey);
    const spareCode = (await json(await platform.api('/api/sources/pair', { method: 'POST', body: '{}', key: acmeKey }), 201)).code;
    // The other org, connected the same way.
    const other = await platform.pairDevice('Default rig');
    const otherSocket = await connectDevice('default', other.device_token, other.source_id);
    const otherBrowser = await connectBrowser('default', platform.adminKey);

    const disabled = (await ops('orgs.disable', { id: 'acme' })).response;
    expect(disabled).toMatchObject({ id: 'acme', disabled_at: expect.any(String) });
    const closedWithin = (socket: TestSocket) =>
      Promise.race([socket.closed, new Promise<{ code: number }>((resolve) => setTimeout(() => resolve({ code: -1 }), 1000))]);
    const [deviceClosed, browserClosed] = await Promise.all([closedWithin(deviceSocket), closedWithin(browser)]);
    expect(deviceClosed.code).toBe(4010);
    expect(browserClosed.code).toBe(4010);
    await waitFor('the disabled org’s key to be refused over HTTP', async () => (await verifyKey(acmeKey)).status === 401, 1000);
    expect((await platform.api('/api/sources', { key: acmeKey })).status).toBe(401);
    await json(await verifyDevice(device.device_token), 401);
    // Nor can it come back in: not with its token, its key, or a code made before.
    const again = await open('acme');
    again.send({ type: 'device_auth', device_token: device.device_token, source_id: device.source_id, platform: 'Linux', sensors: [] });
    expect((await again.closed).code).toBe(4001);
    const watcher = await open('acme');
    watcher.send({ type: 'browser_auth', api_key: acmeKey });
    expect((await watcher.closed).code).toBe(4001);
    const lateCode = await fetch(`${platform.gateway}/api/sources/pair/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: spareCode }),
    });
    expect(lateCode.status).toBe(403);
    expect((await ops('keys.create', { org_id: 'acme', name: 'sneaky', scopes: ['admin'] })).err).toMatchObject({ code: 'CONFLICT' });
    expect((await ops('orgs.list', {})).response.orgs.find((org: { id: string }) => org.id === 'acme').disabled_at).toBe(
      disabled.disabled_at,
    );

    // The other org is untouched.
    expect(await json(await verifyKey(platform.adminKey), 200)).toMatchObject({ org_id: 'default' });
    expect(await json(await verifyDevice(other.device_token), 200)).toMatchObject({ org_id: 'default' });
    otherBrowser.send({ type: 'ping' });
    expect(await otherBrowser.nextOfType('pong')).toBeDefined();
    otherBrowser.send({ type: 'ping', source_id: other.source_id });
    expect(await otherSocket.nextOfType('ping')).toBeDefined();
  });
});
