import { describe, expect, it } from '@jest/globals';
import { AuthenticationError, PlexusError, UnavailableError } from './errors.js';
import { delayFor, retryPolicy, withRetries } from './retry.js';

const steady = retryPolicy({ jitter: false });

function retryable(message: string, retryAfterSeconds?: number): PlexusError {
  return new PlexusError(message, { status: 503, retryable: true, retryAfterSeconds });
}

describe('delayFor', () => {
  it('doubles from baseDelayMs and stops at maxDelayMs', () => {
    expect([0, 1, 2, 3, 10].map((attempt) => delayFor(attempt, undefined, steady))).toEqual([500, 1000, 2000, 4000, 30_000]);
  });

  it('keeps jittered waits between half and all of the backoff', () => {
    const policy = retryPolicy();
    expect(delayFor(2, undefined, policy, () => 0)).toBe(1000);
    expect(delayFor(2, undefined, policy, () => 0.5)).toBe(1500);
    expect(delayFor(2, undefined, policy, () => 0.999_999)).toBeCloseTo(2000, 0);
  });

  it('waits as long as Retry-After asks, at most 10 % longer, never beyond maxDelayMs', () => {
    expect(delayFor(0, 1, steady)).toBe(1000);
    expect(delayFor(4, 1, steady)).toBe(1000);
    expect(delayFor(0, 2, retryPolicy(), () => 1)).toBeCloseTo(2200);
    expect(delayFor(0, 3600, steady)).toBe(30_000);
    expect(delayFor(0, 0, steady)).toBe(0);
  });
});

describe('retryPolicy', () => {
  it('fills in the defaults and refuses negative numbers', () => {
    expect(retryPolicy({ maxRetries: 2 })).toEqual({ maxRetries: 2, baseDelayMs: 500, maxDelayMs: 30_000, jitter: true });
    expect(() => retryPolicy({ baseDelayMs: -1 })).toThrow('retry.baseDelayMs must be a number ≥ 0, got -1');
  });
});

describe('withRetries', () => {
  it('retries retryable errors, sleeping the policy delays, until the call succeeds', async () => {
    const sleeps: number[] = [];
    const attempts: number[] = [];
    const result = await withRetries(
      async (attempt) => {
        attempts.push(attempt);
        if (attempt === 0) throw retryable('broker unavailable', 1);
        if (attempt === 1) throw retryable('connection reset');
        return 'stored';
      },
      steady,
      async (ms) => {
        sleeps.push(ms);
      },
    );
    expect(result).toBe('stored');
    expect(attempts).toEqual([0, 1, 2]);
    expect(sleeps).toEqual([1000, 1000]);
  });

  it('rethrows an error that is not retryable at once', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const refused = new AuthenticationError('invalid API key', { status: 401 });
    await expect(
      withRetries(
        async () => {
          calls++;
          throw refused;
        },
        steady,
        async (ms) => {
          sleeps.push(ms);
        },
      ),
    ).rejects.toBe(refused);
    expect(calls).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('rethrows an error that is not a PlexusError (a bug) without retrying', async () => {
    let calls = 0;
    const bug = new TypeError('x is not a function');
    await expect(
      withRetries(async () => {
        calls++;
        throw bug;
      }, steady),
    ).rejects.toBe(bug);
    expect(calls).toBe(1);
  });

  it('gives up after maxRetries + 1 attempts with an UnavailableError carrying the last error', async () => {
    let calls = 0;
    const failure = withRetries(
      async () => {
        calls++;
        throw retryable(`broker unavailable #${calls}`);
      },
      retryPolicy({ maxRetries: 2, jitter: false }),
      async () => undefined,
    );
    const error = await failure.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(UnavailableError);
    const unavailable = error as UnavailableError;
    expect(calls).toBe(3);
    expect(unavailable.attempts).toBe(3);
    expect(unavailable.status).toBe(503);
    expect(unavailable.message).toBe('gave up after 3 attempts: broker unavailable #3');
    expect((unavailable.cause as PlexusError).message).toBe('broker unavailable #3');
  });
});
