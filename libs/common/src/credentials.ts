import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Pairing codes avoid look-alikes (0/O, 1/I), as the contract's alphabet does. */
export const PAIRING_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

export const CREDENTIAL_PREFIX = { apiKey: 'plx_', deviceToken: 'plxd_' } as const;

export const API_KEY_PATTERN = /^plx_[A-Za-z0-9]{40}$/;
export const DEVICE_TOKEN_PATTERN = /^plxd_[A-Za-z0-9]{40}$/;

function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export function generateApiKey(): string {
  return CREDENTIAL_PREFIX.apiKey + randomString(BASE62, 40);
}

export function generateDeviceToken(): string {
  return CREDENTIAL_PREFIX.deviceToken + randomString(BASE62, 40);
}

export function generatePairingCode(): string {
  return randomString(PAIRING_CODE_ALPHABET, 6);
}

/** What is stored for a secret: its SHA-256, hex. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

const HEX = /^(?:[0-9a-f]{2})+$/i;

/** Constant-time comparison of two hex digests. */
export function digestsEqual(a: string, b: string): boolean {
  if (!HEX.test(a) || !HEX.test(b)) return false;
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

/** The part of a key shown in lists: enough to recognise it, far too little to use it. */
export function displayPrefix(secret: string): string {
  return secret.slice(0, secret.indexOf('_') + 1 + 6);
}
