import { accessSync, constants, readFileSync } from 'node:fs';
import { ConfigError, type Env, readVariables } from './read-variables.js';

/** What every NATS connection is made from (VARIABLES in variables.ts). */
const NATS_VARIABLES = [
  'NATS_URL',
  'NATS_USER',
  'NATS_PASSWORD',
  'NATS_TOKEN',
  'NATS_CREDS',
  'NATS_NKEY_SEED',
  'NATS_TLS_CA',
  'NATS_TLS_CERT',
  'NATS_TLS_KEY',
] as const;

/**
 * How every app reaches NATS: the server, one way of proving who it is, and TLS. Read once from
 * the environment and checked at start, so a missing file or a half-given credential stops the
 * app with a message naming the variable instead of failing later as "authorization violation".
 * Secrets are kept out of `servers`, which is the only part ever printed.
 */
export interface NatsSettings {
  /** NATS_URL without any user, password or token in it (safe to log). */
  servers: string;
  auth: NatsAuth;
  /** Present when the connection must use TLS (a tls:// URL or any NATS_TLS_* file). */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

export type NatsAuth =
  | { kind: 'none' }
  | { kind: 'user'; user: string; pass: string }
  | { kind: 'token'; token: string }
  | { kind: 'creds'; credsFile: string }
  | { kind: 'nkey'; seed: string };

/** A user nkey seed: "SU" and 56 base32 characters. */
const NKEY_USER_SEED = /^SU[A-Z2-7]{56}$/;

function readableFile(name: string, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
    throw new ConfigError(`${name} names the file "${path}", which ${reason}`);
  }
  return path;
}

/** Reads the credentials a NATS_URL may carry: `user:pass@` (user/password) or `token@` (token). */
function credentialsInUrl(raw: string): { servers: string; auth: NatsAuth; tls: boolean } {
  const url = new URL(raw);
  const tls = url.protocol === 'tls:';
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  // The Node client speaks TLS when asked to through the `tls` option, not through the scheme.
  if (tls) url.protocol = 'nats:';
  const servers = url.toString().replace(/\/$/, '');
  if (user && pass) return { servers, auth: { kind: 'user', user, pass }, tls };
  if (user) return { servers, auth: { kind: 'token', token: user }, tls };
  return { servers, auth: { kind: 'none' }, tls };
}

export function readNatsSettings(env: Env = process.env): NatsSettings {
  const variables = readVariables(NATS_VARIABLES, env);
  const fromUrl = credentialsInUrl(variables.NATS_URL);

  const given: { variable: string; auth: NatsAuth }[] = [];
  if (fromUrl.auth.kind !== 'none') given.push({ variable: 'NATS_URL', auth: fromUrl.auth });

  const user = variables.NATS_USER;
  const password = variables.NATS_PASSWORD;
  if (user !== undefined && password === undefined)
    throw new ConfigError('NATS_USER is set but NATS_PASSWORD is not: give both, or neither');
  if (password !== undefined && user === undefined)
    throw new ConfigError('NATS_PASSWORD is set but NATS_USER is not: give both, or neither');
  if (user !== undefined && password !== undefined) given.push({ variable: 'NATS_USER', auth: { kind: 'user', user, pass: password } });

  const token = variables.NATS_TOKEN;
  if (token !== undefined) given.push({ variable: 'NATS_TOKEN', auth: { kind: 'token', token } });

  const credsFile = readableFile('NATS_CREDS', variables.NATS_CREDS);
  if (credsFile !== undefined) {
    const creds = readFileSync(credsFile, 'utf8');
    if (!/-----BEGIN NATS USER JWT-----/.test(creds) || !/-----BEGIN USER NKEY SEED-----/.test(creds)) {
      throw new ConfigError(
        `NATS_CREDS names "${credsFile}", which is not a NATS credentials file (a user JWT and an nkey seed, as "nsc generate creds" writes)`,
      );
    }
    given.push({ variable: 'NATS_CREDS', auth: { kind: 'creds', credsFile } });
  }

  const seed = variables.NATS_NKEY_SEED;
  if (seed !== undefined) {
    // Never echo the value: it is the private key.
    if (!NKEY_USER_SEED.test(seed.trim()))
      throw new ConfigError('NATS_NKEY_SEED must be a user nkey seed ("SU" and 56 letters A-Z or digits 2-7)');
    given.push({ variable: 'NATS_NKEY_SEED', auth: { kind: 'nkey', seed: seed.trim() } });
  }

  // A NATS server accepts one proof of identity per connection: two would be a mistake to point out.
  if (given.length > 1) {
    throw new ConfigError(
      `NATS credentials are given more than once (${given.map((entry) => entry.variable).join(', ')}): set exactly one way of signing in`,
    );
  }

  const caFile = readableFile('NATS_TLS_CA', variables.NATS_TLS_CA);
  const certFile = readableFile('NATS_TLS_CERT', variables.NATS_TLS_CERT);
  const keyFile = readableFile('NATS_TLS_KEY', variables.NATS_TLS_KEY);
  if (certFile !== undefined && keyFile === undefined)
    throw new ConfigError('NATS_TLS_CERT is set but NATS_TLS_KEY is not: a client certificate needs its key');
  if (keyFile !== undefined && certFile === undefined)
    throw new ConfigError('NATS_TLS_KEY is set but NATS_TLS_CERT is not: a client key needs its certificate');
  const useTls = fromUrl.tls || caFile !== undefined || certFile !== undefined;
  const tls = useTls ? { ...(caFile && { caFile }), ...(certFile && { certFile }), ...(keyFile && { keyFile }) } : undefined;

  return { servers: fromUrl.servers, auth: given[0]?.auth ?? { kind: 'none' }, ...(tls && { tls }) };
}

/** What the settings say, without any secret: for start-up logs. */
export function describeNatsSettings(settings: NatsSettings): string {
  const auth = { none: 'no credentials', user: 'user/password', token: 'token', creds: 'credentials file', nkey: 'nkey' }[
    settings.auth.kind
  ];
  return `${settings.servers} (${auth}${settings.tls ? ', TLS' : ''})`;
}
