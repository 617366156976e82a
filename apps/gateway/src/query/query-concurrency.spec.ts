import { PassThrough } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { DomainError, type Principal } from '#common';
import { QueryConcurrency } from './query-concurrency.js';

const principal = (keyId: string): Principal => ({ org_id: 'default', org_name: 'Default', key_id: keyId, scopes: ['read'] });

describe('QueryConcurrency', () => {
  it('answers RATE_LIMITED with Retry-After beyond the cap of one key, and frees the slot when a stream closes', async () => {
    const limiter = QueryConcurrency.withLimit(2);
    const streams = [new PassThrough(), new PassThrough()];
    await limiter.stream(principal('k1'), async () => streams[0]);
    await limiter.stream(principal('k1'), async () => streams[1]);
    const refused = await limiter.stream(principal('k1'), async () => new PassThrough()).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).code).toBe('RATE_LIMITED');
    expect((refused as DomainError).retryAfterSeconds).toBe(1);
    // Another key is not limited by k1's streams.
    await expect(limiter.stream(principal('k2'), async () => new PassThrough())).resolves.toBeDefined();
    streams[0].destroy();
    await new Promise((resolve) => streams[0].once('close', resolve));
    expect(limiter.inFlightFor('k1')).toBe(1);
    await expect(limiter.stream(principal('k1'), async () => new PassThrough())).resolves.toBeDefined();
  });

  it('gives the slot back when opening the stream fails', async () => {
    const limiter = QueryConcurrency.withLimit(1);
    await expect(limiter.stream(principal('k1'), async () => Promise.reject(new DomainError('SESSION_NOT_FOUND', 'gone')))).rejects.toThrow('gone');
    expect(limiter.inFlightFor('k1')).toBe(0);
  });
});
