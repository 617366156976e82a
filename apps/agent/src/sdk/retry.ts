import { PlexusError, UnavailableError } from './errors.js';

export interface RetryPolicy {
  /** Retries after the first attempt: 5 means at most 6 requests. */
  maxRetries: number;
  /** The first backoff; each further retry doubles it. */
  baseDelayMs: number;
  /** No single wait is longer, not even one the server asks for with Retry-After. */
  maxDelayMs: number;
  /** Randomise waits so that many devices cut off together do not all come back together. */
  jitter: boolean;
}

export type Sleep = (ms: number) => Promise<void>;

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxRetries: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  jitter: true,
});

export function retryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...overrides };
  for (const key of ['maxRetries', 'baseDelayMs', 'maxDelayMs'] as const) {
    if (!Number.isFinite(policy[key]) || policy[key] < 0) {
      throw new PlexusError(`retry.${key} must be a number ≥ 0, got ${policy[key]}`);
    }
  }
  return policy;
}

export const defaultSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How long to wait before retry number `attempt` (0 for the first retry).
 * With a Retry-After the server knows best: wait that long (plus up to 10 % so that clients
 * told the same thing spread out), capped at maxDelayMs so one answer cannot stall a device
 * for an hour. Without one: exponential backoff with "equal jitter" (half fixed, half random),
 * which never collapses to an immediate retry as full jitter can.
 */
export function delayFor(
  attempt: number,
  retryAfterSeconds?: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): number {
  if (retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds >= 0) {
    const asked = retryAfterSeconds * 1000;
    return Math.min(policy.maxDelayMs, policy.jitter ? asked * (1 + 0.1 * random()) : asked);
  }
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return policy.jitter ? exponential / 2 + (exponential / 2) * random() : exponential;
}

/**
 * Runs `fn` until it succeeds, retrying only errors marked retryable; anything else (a 400,
 * a 401, a bug) is rethrown at once. When the retries run out, an UnavailableError carries the last error.
 */
export async function withRetries<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  sleep: Sleep = defaultSleep,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!(error instanceof PlexusError) || !error.retryable) throw error;
      if (attempt >= policy.maxRetries) throw new UnavailableError(attempt + 1, error);
      await sleep(delayFor(attempt, error.retryAfterSeconds, policy));
    }
  }
}
