import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { attemptError, retryDelayMs } from './webhook-dispatcher.service.js';
import { newWebhookSalt, signature, webhookSecret } from './webhook-secret.js';

describe('webhookSecret', () => {
  it('is the base64url HMAC-SHA256 of "id.salt" under the alerts secret', () => {
    const expected = createHmac('sha256', 'k'.repeat(32)).update('whk_abc.salty').digest('base64url');
    expect(webhookSecret('k'.repeat(32), 'whk_abc', 'salty')).toBe(expected);
    expect(expected).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('differs with the alerts secret, the id and the salt', () => {
    const base = webhookSecret('a'.repeat(32), 'whk_1', 's1');
    expect(webhookSecret('b'.repeat(32), 'whk_1', 's1')).not.toBe(base);
    expect(webhookSecret('a'.repeat(32), 'whk_2', 's1')).not.toBe(base);
    expect(webhookSecret('a'.repeat(32), 'whk_1', 's2')).not.toBe(base);
    expect(webhookSecret('a'.repeat(32), 'whk_1', 's1')).toBe(base);
  });

  it('makes a fresh 16-byte base64url salt each time', () => {
    const salts = new Set(Array.from({ length: 100 }, () => newWebhookSalt()));
    expect(salts.size).toBe(100);
    for (const salt of salts) expect(salt).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe('signature', () => {
  it('is sha256= and the hex HMAC-SHA256 of the exact body bytes under the webhook secret', () => {
    const body = '{"event":"fired","alert":{"rule_name":"Température > 30 °C"}}';
    const expected = createHmac('sha256', 'secret').update(Buffer.from(body, 'utf8')).digest('hex');
    expect(signature('secret', body)).toBe(`sha256=${expected}`);
    expect(signature('secret', Buffer.from(body, 'utf8'))).toBe(`sha256=${expected}`);
  });

  it('changes with one byte of the body or another secret', () => {
    const base = signature('secret', '{"a":1}');
    expect(signature('secret', '{"a":2}')).not.toBe(base);
    expect(signature('secret', '{"a":1} ')).not.toBe(base);
    expect(signature('secret2', '{"a":1}')).not.toBe(base);
  });
});

describe('retryDelayMs', () => {
  it('doubles from 1 s after each failed attempt, up to the maximum', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, 600_000))).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(retryDelayMs(10, 600_000)).toBe(512_000);
    expect(retryDelayMs(11, 600_000)).toBe(600_000);
    expect(retryDelayMs(5000, 600_000)).toBe(600_000);
    expect(retryDelayMs(3, 100)).toBe(100);
  });
});

describe('attemptError', () => {
  it('names a timeout by the configured time', () => {
    expect(attemptError(new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 250)).toBe('no answer within 250 ms');
  });

  it('keeps the network cause of a failed fetch', () => {
    const error = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
    });
    expect(attemptError(error, 1000)).toBe('fetch failed: ECONNREFUSED');
  });

  it('is bounded to 500 characters', () => {
    expect(attemptError(new Error('x'.repeat(10_000)), 1000)).toHaveLength(500);
    expect(attemptError('y'.repeat(600), 1000)).toHaveLength(500);
  });
});
