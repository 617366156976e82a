import { describe, expect, it } from '@jest/globals';
import {
  API_KEY_PATTERN,
  CREDENTIAL_PREFIX,
  DEVICE_TOKEN_PATTERN,
  digestsEqual,
  displayPrefix,
  generateApiKey,
  generateDeviceToken,
  generatePairingCode,
  hashSecret,
  PAIRING_CODE_ALPHABET,
} from './credentials.js';

const SHA256_ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
const SHA256_EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('generated credentials', () => {
  it('makes API keys of plx_ and 40 base62 chars that match API_KEY_PATTERN only', () => {
    for (let i = 0; i < 50; i++) {
      const key = generateApiKey();
      expect(key).toMatch(/^plx_[A-Za-z0-9]{40}$/);
      expect(key.startsWith(CREDENTIAL_PREFIX.apiKey)).toBe(true);
      expect(API_KEY_PATTERN.test(key)).toBe(true);
      expect(DEVICE_TOKEN_PATTERN.test(key)).toBe(false);
    }
  });

  it('makes device tokens of plxd_ and 40 base62 chars that match DEVICE_TOKEN_PATTERN only', () => {
    for (let i = 0; i < 50; i++) {
      const token = generateDeviceToken();
      expect(token).toMatch(/^plxd_[A-Za-z0-9]{40}$/);
      expect(DEVICE_TOKEN_PATTERN.test(token)).toBe(true);
      expect(API_KEY_PATTERN.test(token)).toBe(false);
    }
  });

  it('does not repeat keys', () => {
    const keys = new Set(Array.from({ length: 200 }, () => generateApiKey()));
    expect(keys.size).toBe(200);
  });

  it('rejects near misses in the patterns', () => {
    const body = 'a'.repeat(40);
    expect(API_KEY_PATTERN.test(`plx_${body}`)).toBe(true);
    expect(API_KEY_PATTERN.test(`plx_${body.slice(1)}`)).toBe(false);
    expect(API_KEY_PATTERN.test(`plx_${body}a`)).toBe(false);
    expect(API_KEY_PATTERN.test(`plx_${body.slice(1)}-`)).toBe(false);
    expect(API_KEY_PATTERN.test(`PLX_${body}`)).toBe(false);
    expect(DEVICE_TOKEN_PATTERN.test(`plxd_${body}`)).toBe(true);
    expect(DEVICE_TOKEN_PATTERN.test(`plxd_${body.slice(1)}_`)).toBe(false);
  });

  it('makes pairing codes of 6 chars from the contract alphabet (no 0, O, 1 or I)', () => {
    expect(PAIRING_CODE_ALPHABET).toBe('ABCDEFGHJKLMNPQRSTUVWXYZ23456789');
    expect(PAIRING_CODE_ALPHABET).not.toMatch(/[01OI]/);
    for (let i = 0; i < 200; i++) {
      const code = generatePairingCode();
      expect(code).toHaveLength(6);
      for (const char of code) expect(PAIRING_CODE_ALPHABET).toContain(char);
    }
  });
});

describe('hashSecret', () => {
  it('is the SHA-256 of the secret in lower-case hex', () => {
    expect(hashSecret('abc')).toBe(SHA256_ABC);
    expect(hashSecret('')).toBe(SHA256_EMPTY);
  });

  it('hashes a different secret to a different digest', () => {
    expect(hashSecret('abd')).toMatch(/^[0-9a-f]{64}$/);
    expect(hashSecret('abd')).not.toBe(SHA256_ABC);
  });
});

describe('digestsEqual', () => {
  it('is true for equal digests', () => {
    expect(digestsEqual(SHA256_ABC, hashSecret('abc'))).toBe(true);
    // Not hex, or odd-length: never equal (Buffer.from would silently stop at the bad character).
    expect(digestsEqual('abc', 'abd')).toBe(false);
    expect(digestsEqual('ab', 'abzz')).toBe(false);
  });

  it('is false for digests that differ', () => {
    expect(digestsEqual(SHA256_ABC, SHA256_EMPTY)).toBe(false);
    expect(digestsEqual(SHA256_ABC, `${SHA256_ABC.slice(0, -1)}e`)).toBe(false);
  });

  it('is false for digests of different lengths', () => {
    expect(digestsEqual(SHA256_ABC, SHA256_ABC.slice(0, 62))).toBe(false);
    expect(digestsEqual(SHA256_ABC.slice(0, 62), SHA256_ABC)).toBe(false);
  });

  it('is false when either digest is empty', () => {
    expect(digestsEqual('', '')).toBe(false);
    expect(digestsEqual('', SHA256_ABC)).toBe(false);
    expect(digestsEqual(SHA256_ABC, '')).toBe(false);
  });
});

describe('displayPrefix', () => {
  it('keeps the prefix and six more chars of an API key', () => {
    expect(displayPrefix('plx_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd')).toBe('plx_AbCdEf');
  });

  it('keeps the prefix and six more chars of a device token', () => {
    expect(displayPrefix('plxd_9876543210ZYXWVUTSRQPONMLKJIHGFEDCBAzyxw')).toBe('plxd_987654');
  });

  it('never shows more than the prefix and six chars of a generated key', () => {
    const key = generateApiKey();
    expect(displayPrefix(key)).toBe(key.slice(0, 10));
  });
});
