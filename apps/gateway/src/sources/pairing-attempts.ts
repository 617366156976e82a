import { Injectable } from '@nestjs/common';
import { DomainError } from '#common';
import { GatewayConfig, type PairingLimits } from '../config.js';

/** From this many failures (and attempts in flight) on, each attempt waits a little longer before it is answered. */
const SLOW_DOWN_AFTER = 3;
const SLOW_DOWN_STEP_MS = 250;
const MAX_DELAY_MS = 2000;
/** The window of the limit across all addresses. */
const GLOBAL_WINDOW_MS = 60_000;
/** Addresses remembered at most; past it the oldest is forgotten, so memory stays bounded under a spray of addresses. */
const MAX_ADDRESSES = 100_000;

interface Tally {
  /** When each recent wrong code was answered, oldest first; never more than the limit. */
  failures: number[];
  /** Attempts admitted and not answered yet: they count as failures until they are known not to be. */
  pending: number;
}

/** An admitted attempt: `settle` it exactly once with its outcome. */
export interface PairingAttempt {
  address: string;
  delayMs: number;
}

/**
 * Guards `POST /api/sources/pair/complete` against guessing: a code has 32^6 ≈ 10^9 values.
 * An attempt is counted BEFORE the pairing app is asked (a reserved slot) and settled after:
 * released when it paired, kept as a failure when the code was wrong. The check and the
 * reservation happen with no await between them, so however many requests arrive at once, at
 * most `failuresPerAddress` wrong answers per window reach one address and at most
 * `failuresPerMinute` reach everyone together (behind a proxy that is not configured as trusted,
 * every client shares one address). Counts live in each gateway instance.
 */
@Injectable()
export class PairingAttempts {
  private readonly addresses = new Map<string, Tally>();
  private readonly everyone: Tally = { failures: [], pending: 0 };
  private readonly limits: PairingLimits;

  constructor(config: GatewayConfig) {
    this.limits = config.pairingLimits;
  }

  /** Reserves a slot for the address or throws 429 with Retry-After. */
  admit(address: string): PairingAttempt {
    const now = Date.now();
    const tally = this.tally(address, now);
    prune(this.everyone, now - GLOBAL_WINDOW_MS);
    refuseIfFull(tally, this.limits.failuresPerAddress, this.limits.windowSeconds * 1000, now, 'from this address');
    refuseIfFull(this.everyone, this.limits.failuresPerMinute, GLOBAL_WINDOW_MS, now, 'on this server');
    const earned = tally.failures.length + tally.pending - SLOW_DOWN_AFTER + 1;
    tally.pending++;
    this.everyone.pending++;
    return { address, delayMs: earned > 0 ? Math.min(MAX_DELAY_MS, earned * SLOW_DOWN_STEP_MS) : 0 };
  }

  /** The attempt's answer is known: a wrong code stays counted, anything else frees its slot. */
  settle(attempt: PairingAttempt, failed: boolean): void {
    const now = Date.now();
    const tally = this.addresses.get(attempt.address);
    if (tally) {
      tally.pending--;
      if (failed) record(tally, now, this.limits.failuresPerAddress);
      if (!tally.pending && !tally.failures.length) this.addresses.delete(attempt.address);
    }
    this.everyone.pending--;
    if (failed) record(this.everyone, now, this.limits.failuresPerMinute);
  }

  private tally(address: string, now: number): Tally {
    let tally = this.addresses.get(address);
    if (!tally) {
      if (this.addresses.size >= MAX_ADDRESSES) this.addresses.delete(this.addresses.keys().next().value as string);
      tally = { failures: [], pending: 0 };
      this.addresses.set(address, tally);
    }
    prune(tally, now - this.limits.windowSeconds * 1000);
    return tally;
  }
}

function prune(tally: Tally, cutoff: number): void {
  let expired = 0;
  while (expired < tally.failures.length && tally.failures[expired] <= cutoff) expired++;
  if (expired) tally.failures.splice(0, expired);
}

function record(tally: Tally, now: number, limit: number): void {
  tally.failures.push(now);
  if (tally.failures.length > limit) tally.failures.splice(0, tally.failures.length - limit);
}

function refuseIfFull(tally: Tally, limit: number, windowMs: number, now: number, where: string): void {
  if (tally.failures.length + tally.pending < limit) return;
  // Full of answered failures: free when the oldest leaves the window. Full of attempts in flight: soon.
  const retryAfter = tally.failures.length >= limit ? Math.max(1, Math.ceil((tally.failures[0] + windowMs - now) / 1000)) : 1;
  throw new DomainError('RATE_LIMITED', `too many wrong pairing codes ${where}; retry in ${retryAfter} s`, undefined, retryAfter);
}
