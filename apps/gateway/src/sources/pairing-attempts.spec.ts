import { describe, expect, it } from '@jest/globals';
import { DomainError } from '#common';
import { readGatewayConfig } from '../config.js';
import { type PairingAttempt, PairingAttempts } from './pairing-attempts.js';

// Defaults: 10 wrong codes per address per 600 s, 100 per minute across all addresses.
function refusal(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    return error as DomainError;
  }
  throw new Error('expected a refusal');
}

describe('PairingAttempts', () => {
  it('counts an attempt when it is admitted, so attempts in flight cannot outrun the limit', () => {
    const attempts = new PairingAttempts(readGatewayConfig({}));
    const admitted: PairingAttempt[] = [];
    for (let i = 0; i < 10; i++) admitted.push(attempts.admit('198.51.100.1'));
    const refused = refusal(() => attempts.admit('198.51.100.1'));
    expect(refused).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 1 });
    // A right code gives its slot back; a wrong one keeps it for the whole window.
    attempts.settle(admitted.pop()!, false);
    admitted.push(attempts.admit('198.51.100.1'));
    for (const attempt of admitted) attempts.settle(attempt, true);
    expect(refusal(() => attempts.admit('198.51.100.1')).retryAfterSeconds).toBeGreaterThan(590);
    expect(attempts.admit('198.51.100.2')).toMatchObject({ address: '198.51.100.2', delayMs: 0 });
  });

  it('slows an address down after its third wrong code', () => {
    const attempts = new PairingAttempts(readGatewayConfig({}));
    const delays = Array.from({ length: 6 }, () => {
      const attempt = attempts.admit('198.51.100.3');
      attempts.settle(attempt, true);
      return attempt.delayMs;
    });
    expect(delays).toEqual([0, 0, 0, 250, 500, 750]);
  });

  it('refuses everyone once 100 wrong codes a minute came from all addresses together', () => {
    const attempts = new PairingAttempts(readGatewayConfig({}));
    for (let i = 0; i < 100; i++) attempts.settle(attempts.admit(`10.0.${i >> 8}.${i & 255}`), true);
    expect(refusal(() => attempts.admit('192.0.2.1')).message).toMatch(/on this server/);
  });
});
