import { describe, expect, it } from '@jest/globals';
import { ConfigError, readVariables } from './read-variables.js';
import { type Variable, type VariableName, VARIABLES } from './variables.js';

/** Runs `read` and returns the ConfigError it throws; fails the test if it throws nothing or something else. */
function configError(read: () => unknown): ConfigError {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

const ALL = Object.keys(VARIABLES) as VariableName[];

describe('readVariables: defaults', () => {
  it('gives every variable its default when nothing is set, and every default passes its own schema', () => {
    const values = readVariables(ALL, {});
    for (const name of ALL) expect(values[name]).toBe((VARIABLES[name] as Variable).default);
  });

  it('treats an empty value as unset', () => {
    expect(
      readVariables(['GATEWAY_PORT', 'PLEXUS_NATS_PREFIX', 'PLEXUS_PAIRING_SECRET'], {
        GATEWAY_PORT: '',
        PLEXUS_NATS_PREFIX: '',
        PLEXUS_PAIRING_SECRET: '',
      }),
    ).toEqual({
      GATEWAY_PORT: 8080,
      PLEXUS_NATS_PREFIX: 'plexus',
    });
  });

  it('reads only the variables asked for', () => {
    expect(readVariables(['GATEWAY_PORT'], { GATEWAY_PORT: '9000', REALTIME_PORT: 'not checked here' })).toEqual({ GATEWAY_PORT: 9000 });
  });
});

describe('readVariables: whole numbers', () => {
  it('parses a whole number, the bounds themselves included', () => {
    expect(readVariables(['GATEWAY_PORT'], { GATEWAY_PORT: '8080' }).GATEWAY_PORT).toBe(8080);
    expect(readVariables(['GATEWAY_PORT'], { GATEWAY_PORT: '0' }).GATEWAY_PORT).toBe(0);
    expect(readVariables(['GATEWAY_PORT'], { GATEWAY_PORT: '65535' }).GATEWAY_PORT).toBe(65535);
    expect(readVariables(['PLEXUS_STREAM_REPLICAS'], { PLEXUS_STREAM_REPLICAS: '1' }).PLEXUS_STREAM_REPLICAS).toBe(1);
  });

  it('ignores whitespace around the digits, as before', () => {
    expect(readVariables(['GATEWAY_PORT'], { GATEWAY_PORT: ' 9000 ' }).GATEWAY_PORT).toBe(9000);
  });

  it.each(['abc', '1.5', '8080x', 'NaN', 'Infinity', ' ', '0x1F', '1e3', '+80', '٨٠', '80\u0000', '9'.repeat(400)])(
    'throws a ConfigError naming the variable for %j',
    (raw) => {
      const error = configError(() => readVariables(['GATEWAY_PORT'], { GATEWAY_PORT: raw }));
      expect(error.message).toBe(`GATEWAY_PORT must be a whole number from 0 to 65535, got "${raw}"`);
    },
  );

  it('throws below the minimum and above the maximum', () => {
    expect(configError(() => readVariables(['PLEXUS_STREAM_REPLICAS'], { PLEXUS_STREAM_REPLICAS: '0' })).message).toBe(
      'PLEXUS_STREAM_REPLICAS must be a whole number from 1 to 5, got "0"',
    );
    expect(configError(() => readVariables(['PLEXUS_STREAM_REPLICAS'], { PLEXUS_STREAM_REPLICAS: '6' })).message).toMatch(
      /^PLEXUS_STREAM_REPLICAS must be a whole number from 1 to 5/,
    );
    expect(configError(() => readVariables(['GATEWAY_PORT'], { GATEWAY_PORT: '-1' })).message).toMatch(
      /^GATEWAY_PORT must be a whole number from 0 to /,
    );
    expect(
      configError(() => readVariables(['PLEXUS_INGEST_BATCH_BYTES'], { PLEXUS_INGEST_BATCH_BYTES: '99999999999999999999' })).message,
    ).toBe(`PLEXUS_INGEST_BATCH_BYTES must be a whole number from 1024 to ${Number.MAX_SAFE_INTEGER}, got "99999999999999999999"`);
  });
});

describe('readVariables: URLs', () => {
  it('returns the value as given when it is a URL with an allowed protocol', () => {
    expect(readVariables(['NATS_URL'], { NATS_URL: 'tls://broker:4222' }).NATS_URL).toBe('tls://broker:4222');
    expect(readVariables(['DATABASE_URL'], { DATABASE_URL: 'postgresql://db/plexus' }).DATABASE_URL).toBe('postgresql://db/plexus');
  });

  it('throws a ConfigError naming the variable for something that is not a URL', () => {
    expect(configError(() => readVariables(['NATS_URL'], { NATS_URL: 'localhost 4222' })).message).toBe(
      'NATS_URL must be a URL, got "localhost 4222"',
    );
  });

  it('throws a ConfigError naming the variable and the allowed protocols for another protocol', () => {
    expect(configError(() => readVariables(['NATS_URL'], { NATS_URL: 'http://broker:4222' })).message).toBe(
      'NATS_URL must use nats: or tls:, got "http:"',
    );
    expect(configError(() => readVariables(['PUBLIC_URL'], { PUBLIC_URL: 'javascript:alert(1)' })).message).toBe(
      'PUBLIC_URL must use http: or https:, got "javascript:"',
    );
  });
});

describe('readVariables: text', () => {
  it('returns a value that matches its pattern', () => {
    expect(readVariables(['PLEXUS_NATS_PREFIX'], { PLEXUS_NATS_PREFIX: 'dev-1' }).PLEXUS_NATS_PREFIX).toBe('dev-1');
  });

  it.each(['Dev 1', '1abc', 'a.b', 'a>', 'a*', `a${'b'.repeat(32)}`, 'ab\n'])(
    'throws a ConfigError naming the variable and what it must be for %j',
    (raw) => {
      expect(configError(() => readVariables(['PLEXUS_NATS_PREFIX'], { PLEXUS_NATS_PREFIX: raw })).message).toBe(
        `PLEXUS_NATS_PREFIX must be a letter followed by up to 31 letters, digits, _ or -, got "${raw}"`,
      );
    },
  );

  it("reads npm start's own variables and refuses hostile values of them", () => {
    expect(readVariables(['PLEXUS_START_VERBOSE', 'PLEXUS_START_LOG_DIR'], {})).toEqual({ PLEXUS_START_VERBOSE: '0' });
    expect(readVariables(['PLEXUS_START_VERBOSE'], { PLEXUS_START_VERBOSE: '1' }).PLEXUS_START_VERBOSE).toBe('1');
    for (const raw of ['yes', 'true', '1\n', '\u0000', '11'])
      expect(configError(() => readVariables(['PLEXUS_START_VERBOSE'], { PLEXUS_START_VERBOSE: raw })).message).toContain(
        'PLEXUS_START_VERBOSE must be 0 or 1',
      );
    expect(configError(() => readVariables(['PLEXUS_START_LOG_DIR'], { PLEXUS_START_LOG_DIR: 'x'.repeat(5000) })).message).toContain(
      'PLEXUS_START_LOG_DIR',
    );
  });

  it('takes one of a set of words', () => {
    expect(readVariables(['PLEXUS_LOG_LEVEL'], { PLEXUS_LOG_LEVEL: 'debug' }).PLEXUS_LOG_LEVEL).toBe('debug');
    expect(configError(() => readVariables(['PLEXUS_LOG_LEVEL'], { PLEXUS_LOG_LEVEL: 'DEBUG' })).message).toBe(
      'PLEXUS_LOG_LEVEL must be error, warn, log, debug or verbose, got "DEBUG"',
    );
  });

  it('never echoes a secret', () => {
    const error = configError(() => readVariables(['PLEXUS_PAIRING_SECRET'], { PLEXUS_PAIRING_SECRET: 'hunter2' }));
    expect(error.message).toBe('PLEXUS_PAIRING_SECRET must be 32 to 512 characters (e.g. `openssl rand -hex 32`)');
    const key = configError(() => readVariables(['PLEXUS_BOOTSTRAP_ADMIN_KEY'], { PLEXUS_BOOTSTRAP_ADMIN_KEY: 'plx_short' }));
    expect(key.message).toBe('PLEXUS_BOOTSTRAP_ADMIN_KEY must be "plx_" followed by 40 letters or digits');
  });

  it('trims where the variable says so, and refuses what is blank once trimmed', () => {
    expect(readVariables(['PLEXUS_BOOTSTRAP_ORG_NAME'], { PLEXUS_BOOTSTRAP_ORG_NAME: '  Acme  ' }).PLEXUS_BOOTSTRAP_ORG_NAME).toBe('Acme');
    expect(configError(() => readVariables(['PLEXUS_BOOTSTRAP_ORG_NAME'], { PLEXUS_BOOTSTRAP_ORG_NAME: '   ' })).message).toMatch(
      /^PLEXUS_BOOTSTRAP_ORG_NAME must be 1 to 128 characters/,
    );
    expect(() => readVariables(['PLEXUS_BOOTSTRAP_ORG_NAME'], { PLEXUS_BOOTSTRAP_ORG_NAME: 'x'.repeat(129) })).toThrow(ConfigError);
  });
});

describe('readVariables: several bad variables', () => {
  it('names every one in one error, one line each', () => {
    const error = configError(() =>
      readVariables(['GATEWAY_PORT', 'NATS_URL', 'PLEXUS_LOG_FORMAT'], { GATEWAY_PORT: 'x', NATS_URL: 'nope', PLEXUS_LOG_FORMAT: 'xml' }),
    );
    expect(error.message.split('\n')).toEqual([
      'GATEWAY_PORT must be a whole number from 0 to 65535, got "x"',
      'NATS_URL must be a URL, got "nope"',
      'PLEXUS_LOG_FORMAT must be json or text, got "xml"',
    ]);
  });
});
