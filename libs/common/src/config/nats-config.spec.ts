import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { natsConnectionOptions } from '../nats/connection-options.js';
import { describeNatsSettings, readNatsSettings } from './nats-config.js';

const dir = mkdtempSync(join(tmpdir(), 'plexus-nats-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const CREDS = `-----BEGIN NATS USER JWT-----\neyJhbGciOi.x.y\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\nSUAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n------END USER NKEY SEED------\n`;
const SEED = `SU${'A'.repeat(56)}`;

describe('NATS settings', () => {
  it('connects anonymously to nats://127.0.0.1:4222 when nothing is set', () => {
    expect(readNatsSettings({})).toEqual({ servers: 'nats://127.0.0.1:4222', auth: { kind: 'none' } });
  });

  it('takes user:pass@ and token@ out of NATS_URL, so the URL that may be printed holds no secret', () => {
    const withUser = readNatsSettings({ NATS_URL: 'nats://ingest:s%40cret@nats:4222' });
    expect(withUser).toEqual({ servers: 'nats://nats:4222', auth: { kind: 'user', user: 'ingest', pass: 's@cret' } });
    expect(describeNatsSettings(withUser)).not.toContain('cret');
    expect(readNatsSettings({ NATS_URL: 'nats://t0ken@nats:4222' }).auth).toEqual({ kind: 'token', token: 't0ken' });
  });

  it('reads NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED and NATS_CREDS', () => {
    expect(readNatsSettings({ NATS_USER: 'gw', NATS_PASSWORD: 'pw' }).auth).toEqual({ kind: 'user', user: 'gw', pass: 'pw' });
    expect(readNatsSettings({ NATS_TOKEN: 'tk' }).auth).toEqual({ kind: 'token', token: 'tk' });
    expect(readNatsSettings({ NATS_NKEY_SEED: SEED }).auth).toEqual({ kind: 'nkey', seed: SEED });
    const credsFile = file('app.creds', CREDS);
    expect(readNatsSettings({ NATS_CREDS: credsFile }).auth).toEqual({ kind: 'creds', credsFile });
  });

  it('refuses half-given or doubled credentials, naming the variables and never the secret', () => {
    expect(() => readNatsSettings({ NATS_USER: 'gw' })).toThrow(/NATS_PASSWORD/);
    expect(() => readNatsSettings({ NATS_PASSWORD: 'hunter2' })).toThrow(/NATS_USER/);
    expect(() => readNatsSettings({ NATS_PASSWORD: 'hunter2' })).not.toThrow(/hunter2/);
    expect(() => readNatsSettings({ NATS_URL: 'nats://a:b@nats:4222', NATS_TOKEN: 'tk' })).toThrow(/NATS_URL, NATS_TOKEN/);
    expect(() => readNatsSettings({ NATS_NKEY_SEED: 'SUsecret' })).toThrow(/NATS_NKEY_SEED must be a user nkey seed/);
    expect(() => readNatsSettings({ NATS_NKEY_SEED: 'SUsecret' })).not.toThrow(/SUsecret/);
  });

  it('refuses a missing or wrong file, naming the variable and the path', () => {
    expect(() => readNatsSettings({ NATS_CREDS: join(dir, 'nope.creds') })).toThrow(
      /NATS_CREDS names the file ".*nope.creds", which does not exist/,
    );
    expect(() => readNatsSettings({ NATS_CREDS: file('not.creds', 'hello') })).toThrow(
      /NATS_CREDS names ".*not.creds", which is not a NATS credentials file/,
    );
    expect(() => readNatsSettings({ NATS_TLS_CA: join(dir, 'ca.pem') })).toThrow(/NATS_TLS_CA names the file/);
    expect(() => readNatsSettings({ NATS_TLS_CERT: file('cert.pem', 'x') })).toThrow(/NATS_TLS_KEY/);
    expect(() => readNatsSettings({ NATS_URL: 'ws://nats:8080' })).toThrow(/NATS_URL must use nats: or tls:/);
  });

  it('asks for TLS with a tls:// URL or any NATS_TLS_* file', () => {
    expect(readNatsSettings({ NATS_URL: 'tls://nats:4222' })).toEqual({ servers: 'nats://nats:4222', auth: { kind: 'none' }, tls: {} });
    const caFile = file('ca.crt', 'x');
    const certFile = file('client.crt', 'x');
    const keyFile = file('client.key', 'x');
    expect(readNatsSettings({ NATS_TLS_CA: caFile, NATS_TLS_CERT: certFile, NATS_TLS_KEY: keyFile }).tls).toEqual({
      caFile,
      certFile,
      keyFile,
    });
  });

  it('turns the settings into connect() options for each kind of credential', () => {
    const base = { servers: 'nats://nats:4222' };
    expect(natsConnectionOptions({ ...base, auth: { kind: 'user', user: 'u', pass: 'p' } }, 'n')).toEqual({
      ...base,
      name: 'n',
      user: 'u',
      pass: 'p',
    });
    expect(natsConnectionOptions({ ...base, auth: { kind: 'token', token: 't' } }, 'n')).toEqual({ ...base, name: 'n', token: 't' });
    expect(natsConnectionOptions({ ...base, auth: { kind: 'nkey', seed: SEED } }, 'n').authenticator).toEqual(expect.any(Function));
    expect(natsConnectionOptions({ ...base, auth: { kind: 'none' }, tls: { caFile: '/ca' } }, 'n')).toEqual({
      ...base,
      name: 'n',
      tls: { caFile: '/ca' },
    });
  });
});
