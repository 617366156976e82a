import { PassThrough } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { DomainError, type Principal } from '#common';
import { QueryConcurrency } from './query-concurrency.js';

const principal = (keyId: string): Principal => ({ org_id: 'default', org_name: 'Default', key_id: keyId, scopes: ['read'] });

async function closed(stream: PassThrough): Promise<void> {
  stream.destroy();
  await new Promise((resolve) => stream.once('close', resolve));
}

describe('QueryConcurrency', () => {
  it('answers RATE_LIMITED with Retry-After beyond the cap of one key once the wait is over; other keys are not limited', async () => {
    const limiter = QueryConcurrency.withLimit(2, 50);
    await limiter.stream(principal('k1'), async () => new PassThrough());
    await limiter.stream(principal('k1'), async () => new PassThrough());
    const refused = await limiter.stream(principal('k1'), async () => new PassThrough()).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).code).toBe('RATE_LIMITED');
    expect((refused as DomainError).retryAfterSeconds).toBe(1);
    await expect(limiter.stream(principal('k2'), async () => new PassThrough())).resolves.toBeDefined();
    expect(limiter.inFlightFor('k1')).toBe(2);
  });

  it('hands a slot given back to the query waiting for it', async () => {
    const limiter = QueryConcurrency.withLimit(1, 10_000);
    const first = new PassThrough();
    await limiter.stream(principal('k1'), async () => first);
    let opened = false;
    const waiting = limiter.stream(principal('k1'), async () => {
      opened = true;
      return new PassThrough();
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(opened).toBe(false);
    await closed(first);
    await waiting;
    expect(opened).toBe(true);
    expect(limiter.inFlightFor('k1')).toBe(1);
  });

  it('refuses at once when four times the cap already wait', async () => {
    const limiter = QueryConcurrency.withLimit(1, 10_000);
    const held = new PassThrough();
    await limiter.stream(principal('k1'), async () => held);
    const waiters = Array.from({ length: 4 }, () => limiter.stream(principal('k1'), async () => new PassThrough()));
    await expect(limiter.stream(principal('k1'), async () => new PassThrough())).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await closed(held);
    // Each waiter gets the slot in turn as the one before it closes.
    for (const waiter of waiters) await closed((await waiter) as PassThrough);
    expect(limiter.inFlightFor('k1')).toBe(0);
  });

  it('gives the slot back when opening the stream fails', async () => {
    const limiter = QueryConcurrency.withLimit(1);
    await expect(limiter.stream(principal('k1'), async () => Promise.reject(new DomainError('SESSION_NOT_FOUND', 'gone')))).rejects.toThrow(
      'gone',
    );
    expect(limiter.inFlightFor('k1')).toBe(0);
  });
});
