import { describe, expect, it } from '@jest/globals';
import { ConfigError, readInt, readOptionalString, readPattern, readString, readUrl } from './env.js';

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

describe('readString', () => {
  it('returns the value when set', () => {
    expect(readString({ NAME: 'plexus' }, 'NAME', 'fallback')).toBe('plexus');
  });

  it('falls back when unset or empty', () => {
    expect(readString({}, 'NAME', 'fallback')).toBe('fallback');
    expect(readString({ NAME: '' }, 'NAME', 'fallback')).toBe('fallback');
  });
});

describe('readOptionalString', () => {
  it('returns the value, or undefined when unset or empty', () => {
    expect(readOptionalString({ NAME: 'x' }, 'NAME')).toBe('x');
    expect(readOptionalString({ NAME: '' }, 'NAME')).toBeUndefined();
    expect(readOptionalString({}, 'NAME')).toBeUndefined();
  });
});

describe('readInt', () => {
  it('parses a whole number', () => {
    expect(readInt({ PORT: '8080' }, 'PORT', 1)).toBe(8080);
    expect(readInt({ PORT: '0' }, 'PORT', 1)).toBe(0);
  });

  it('falls back when unset or empty', () => {
    expect(readInt({}, 'PORT', 3000)).toBe(3000);
    expect(readInt({ PORT: '' }, 'PORT', 3000)).toBe(3000);
  });

  it('accepts the bounds themselves', () => {
    expect(readInt({ N: '1' }, 'N', 5, 1, 10)).toBe(1);
    expect(readInt({ N: '10' }, 'N', 5, 1, 10)).toBe(10);
  });

  it.each(['abc', '1.5', '8080x', 'NaN', 'Infinity', ' ', '0x1F', '1e3'])('throws a ConfigError naming the variable for %j', (raw) => {
    const error = configError(() => readInt({ GATEWAY_PORT: raw }, 'GATEWAY_PORT', 8080, 0, 65535));
    expect(error.message).toBe(`GATEWAY_PORT must be a whole number from 0 to 65535, got "${raw}"`);
  });

  it('throws below the minimum and above the maximum', () => {
    expect(configError(() => readInt({ N: '0' }, 'N', 5, 1, 10)).message).toMatch(/^N must be a whole number from 1 to 10, got "0"$/);
    expect(configError(() => readInt({ N: '11' }, 'N', 5, 1, 10)).message).toMatch(/^N must be a whole number from 1 to 10/);
    expect(configError(() => readInt({ N: '-1' }, 'N', 5)).message).toMatch(/^N must be a whole number from 0 to /);
  });
});

describe('readUrl', () => {
  const protocols = ['nats:', 'tls:'];

  it('returns the value as given when it is a URL with an allowed protocol', () => {
    expect(readUrl({ NATS_URL: 'tls://broker:4222' }, 'NATS_URL', 'nats://localhost:4222', protocols)).toBe('tls://broker:4222');
  });

  it('falls back when unset or empty', () => {
    expect(readUrl({}, 'NATS_URL', 'nats://localhost:4222', protocols)).toBe('nats://localhost:4222');
    expect(readUrl({ NATS_URL: '' }, 'NATS_URL', 'nats://localhost:4222', protocols)).toBe('nats://localhost:4222');
  });

  it('throws a ConfigError naming the variable for something that is not a URL', () => {
    const error = configError(() => readUrl({ NATS_URL: 'localhost 4222' }, 'NATS_URL', 'nats://localhost:4222', protocols));
    expect(error.message).toBe('NATS_URL must be a URL, got "localhost 4222"');
  });

  it('throws a ConfigError naming the variable and the allowed protocols for another protocol', () => {
    const error = configError(() => readUrl({ NATS_URL: 'http://broker:4222' }, 'NATS_URL', 'nats://localhost:4222', protocols));
    expect(error.message).toBe('NATS_URL must use nats: or tls:, got "http:"');
  });
});

describe('readPattern', () => {
  const slug = /^[a-z][a-z0-9-]*$/;

  it('returns a value that matches', () => {
    expect(readPattern({ PREFIX: 'dev-1' }, 'PREFIX', 'plexus', slug, 'a slug')).toBe('dev-1');
  });

  it('falls back when unset or empty', () => {
    expect(readPattern({}, 'PREFIX', 'plexus', slug, 'a slug')).toBe('plexus');
    expect(readPattern({ PREFIX: '' }, 'PREFIX', 'plexus', slug, 'a slug')).toBe('plexus');
  });

  it('throws a ConfigError naming the variable and what it must be', () => {
    const error = configError(() => readPattern({ PREFIX: 'Dev 1' }, 'PREFIX', 'plexus', slug, 'a slug'));
    expect(error.message).toBe('PREFIX must be a slug, got "Dev 1"');
  });

  it('checks the fallback too', () => {
    expect(configError(() => readPattern({}, 'PREFIX', 'Not A Slug', slug, 'a slug')).message).toMatch(/^PREFIX must be a slug/);
  });
});
