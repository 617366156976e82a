import { Injectable } from '@nestjs/common';
import { DomainError } from '#common';

/** Failed pairing attempts from one address within this window count against it. */
const WINDOW_MS = 10 * 60_000;
/** From this many failures on, each attempt waits a little longer before it is answered. */
const SLOW_DOWN_AFTER = 3;
const SLOW_DOWN_STEP_MS = 250;
const MAX_DELAY_MS = 2000;
/** At this many failures, attempts are refused with 429 until the oldest failure leaves the window. */
const REFUSE_AT = 10;

/**
 * Guards `POST /api/sources/pair/complete` against guessing: a code has 32^6 ≈ 10^9 values,
 * so an address that keeps sending wrong codes is slowed down, then refused with Retry-After.
 * Counts live in each gateway instance (a guesser spread over instances is still slowed by each).
 */
@Injectable()
export class PairingAttempts {
  private readonly failures = new Map<string, number[]>();

  /** Throws 429 for a refused address; otherwise waits as long as the address has earned. */
  async admit(address: string): Promise<void> {
    const recent = this.recent(address);
    if (recent.length >= REFUSE_AT) {
      const retryAfter = Math.max(1, Math.ceil((recent[0] + WINDOW_MS - Date.now()) / 1000));
      throw new DomainError('RATE_LIMITED', `too many wrong pairing codes from this address; retry in ${retryAfter} s`, undefined, retryAfter);
    }
    const excess = recent.length - SLOW_DOWN_AFTER + 1;
    if (excess > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(MAX_DELAY_MS, excess * SLOW_DOWN_STEP_MS)));
  }

  recordFailure(address: string): void {
    const recent = this.recent(address);
    recent.push(Date.now());
    this.failures.set(address, recent);
    if (this.failures.size > 100_000) this.failures.delete(this.failures.keys().next().value as string);
  }

  private recent(address: string): number[] {
    const cutoff = Date.now() - WINDOW_MS;
    const recent = (this.failures.get(address) ?? []).filter((at) => at > cutoff);
    if (recent.length) this.failures.set(address, recent);
    else this.failures.delete(address);
    return recent;
  }
}
