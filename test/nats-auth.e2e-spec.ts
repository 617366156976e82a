import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, nkeys } from '@nats-io/transport-node';
import { PrivateNatsServer } from './support/nats-server.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';

// Finding 12: "NATS is open". A private nats-server that asks every client for a TLS client
// certificate signed by the test's own CA, then for a user (password or nkey): the platform,
// given NATS_USER/NATS_PASSWORD (or NATS_NKEY_SEED) and NATS_TLS_*, works; a client without
// credentials is refused, so it cannot call keys.create.

const dir = mkdtempSync(join(tmpdir(), 'plexus-nats-auth-'));
const path = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
function makeCertificates(): void {
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ecKey, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=plexus-test-ca');
  writeFileSync(path('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(path('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    openssl('req', ...ecKey, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=plexus-test-${who}`);
    openssl(
      'x509',
      '-req',
      '-in',
      `${who}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${who}.crt`,
      '-days',
      '1',
      '-extfile',
      `${who}.ext`,
    );
  }
}

const password = 'pl3xus-test-password';
const nkeyUser = nkeys.createUser();
const nkeySeed = new TextDecoder().decode(nkeyUser.getSeed());
const clientTls = { caFile: path('ca.crt'), certFile: path('client.crt'), keyFile: path('client.key') };
const cleanups: Array<() => Promise<void>> = [];
let nats: PrivateNatsServer;
let platform: Platform;

beforeAll(async () => {
  makeCertificates();
  nats = await PrivateNatsServer.start({
    config: [
      `tls { cert_file: "${path('server.crt')}", key_file: "${path('server.key')}", ca_file: "${path('ca.crt')}", verify: true }`,
      'authorization {',
      `  users: [ { user: plexus, password: "${password}" }, { nkey: ${nkeyUser.getPublicKey()} } ]`,
      '}',
    ].join('\n'),
    probe: { user: 'plexus', pass: password, tls: clientTls },
  });
  cleanups.push(() => nats.destroy());
  platform = await Platform.start({
    natsUrl: nats.url,
    env: {
      NATS_USER: 'plexus',
      NATS_PASSWORD: password,
      NATS_TLS_CA: clientTls.caFile,
      NATS_TLS_CERT: clientTls.certFile,
      NATS_TLS_KEY: clientTls.keyFile,
    },
  });
  cleanups.push(() => platform.stop());
}, 120_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const stored = (sourceId: string) => platform.count(`SELECT count(*) FROM telemetry WHERE source_id = $1`, [sourceId]);

describe('NATS credentials and TLS', () => {
  it('runs the whole platform over TLS with NATS_USER/NATS_PASSWORD: ingest answers 200 and the point is stored', async () => {
    const response = await platform.ingest([{ metric: 'm', value: 1, timestamp: 1700000000, source_id: 'auth-user' }]);
    expect(response.status).toBe(200);
    await waitFor('the point stored', async () => (await stored('auth-user')) === 1);
    // Every app reached NATS: realtime too (its readiness checks NATS).
    expect((await fetch(`http://127.0.0.1:${platform.ports.realtime}/health/ready`)).status).toBe(200);
  });

  it('signs an app in with NATS_NKEY_SEED instead of a password', async () => {
    const port = await platform.startCopy('gateway', 'gateway-nkey', { NATS_USER: '', NATS_PASSWORD: '', NATS_NKEY_SEED: nkeySeed });
    const response = await fetch(`http://127.0.0.1:${port}/api/ingest`, {
      method: 'POST',
      headers: { 'x-api-key': platform.adminKey, 'content-type': 'application/json' },
      body: JSON.stringify({ points: [{ metric: 'm', value: 2, timestamp: 1700000001, source_id: 'auth-nkey' }] }),
    });
    expect(response.status).toBe(200);
    await waitFor('the point stored', async () => (await stored('auth-nkey')) === 1);
    await platform.stopApp('gateway-nkey');
  });

  it('refuses a client without credentials (even with a valid certificate), so nobody else can call keys.create', async () => {
    await expect(connect({ servers: nats.url, tls: clientTls, timeout: 2000, reconnect: false })).rejects.toThrow(
      /authorization violation/i,
    );
    await expect(
      connect({ servers: nats.url, user: 'plexus', pass: 'wrong', tls: clientTls, timeout: 2000, reconnect: false }),
    ).rejects.toThrow(/authorization violation/i);
    // Without a client certificate the TLS handshake itself fails.
    await expect(
      connect({ servers: nats.url, user: 'plexus', pass: password, tls: { caFile: clientTls.caFile }, timeout: 2000, reconnect: false }),
    ).rejects.toThrow();
  });

  it('npm run ops signs in with the same settings; without them keys.create cannot be called', async () => {
    const ops = (env: NodeJS.ProcessEnv, ...args: string[]) =>
      promisify(execFile)(process.execPath, [join(process.cwd(), 'dist/scripts/ops.js'), ...args], { env, timeout: 30_000 }).then(
        ({ stdout }) => ({ ok: true, output: stdout }),
        (error: { stderr?: string }) => ({ ok: false, output: String(error.stderr) }),
      );
    const env = { ...platform.env, PLEXUS_NATS_PREFIX: platform.prefix };
    const keys = () => platform.count(`SELECT count(*) FROM api_keys`);
    const before = await keys();
    const request = JSON.stringify({ org_id: 'default', name: 'intruder', scopes: ['admin'] });

    const anonymous = await ops({ ...env, NATS_USER: '', NATS_PASSWORD: '' }, 'keys.create', request);
    expect(anonymous.ok).toBe(false);
    expect(anonymous.output).toMatch(/authorization violation|AUTHORIZATION_VIOLATION/i);
    expect(await keys()).toBe(before);

    const signedIn = await ops(env, 'keys.list', JSON.stringify({ org_id: 'default' }));
    expect(signedIn).toEqual({ ok: true, output: expect.stringContaining('"keys"') });
  });

  it('stops an app at start with a message naming the variable when a credentials file is missing', () => {
    const run = () =>
      execFileSync(process.execPath, [join(process.cwd(), 'dist/apps/gateway/src/main.js')], {
        env: { ...platform.env, NATS_USER: '', NATS_PASSWORD: '', NATS_CREDS: path('missing.creds'), GATEWAY_PORT: '0' },
        stdio: 'pipe',
        timeout: 30_000,
      });
    let failure: { status?: number; stderr?: Buffer } = {};
    try {
      run();
    } catch (error) {
      failure = error as typeof failure;
    }
    expect(failure.status).not.toBe(0);
    expect(String(failure.stderr)).toContain(`NATS_CREDS names the file "${path('missing.creds')}", which does not exist`);
    expect(String(failure.stderr)).not.toContain(password);
  });
});
