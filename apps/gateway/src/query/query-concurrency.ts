import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { DomainError, type Principal } from '#common';
import { GatewayConfig } from '../config.js';

/** How long a query may wait for a slot of its key before it is answered 429. */
export const QUERY_SLOT_WAIT_MS = 2_000;

interface KeySlots {
  used: number;
  /** Queries waiting for a slot, oldest first: each is handed the next slot given back. */
  waiting: Array<(granted: boolean) => void>;
}

/**
 * Queries and exports in flight per API key. Each holds a database cursor at ingest for as long
 * as its HTTP client reads, so one key may not hold more than PLEXUS_QUERY_CONCURRENCY_PER_KEY
 * at once. One more waits up to QUERY_SLOT_WAIT_MS for a slot (a dashboard asking for ten charts
 * at once is served in turn), then is answered 429 with Retry-After; at most four times the cap
 * wait per key, beyond that 429 at once. A slot is taken before the request leaves for ingest
 * and given back when the answer's stream closes — finished, failed, or cut off because its
 * client stopped reading.
 */
@Injectable()
export class QueryConcurrency {
  private readonly keys = new Map<string, KeySlots>();
  private readonly limit: number;
  private waitMs = QUERY_SLOT_WAIT_MS;

  constructor(config: GatewayConfig) {
    this.limit = config.queryConcurrencyPerKey;
  }

  /** For tests: a limiter with another cap (and wait) than the configured one. */
  static withLimit(limit: number, waitMs = QUERY_SLOT_WAIT_MS): QueryConcurrency {
    const limiter = new QueryConcurrency({ queryConcurrencyPerKey: limit } as GatewayConfig);
    limiter.waitMs = waitMs;
    return limiter;
  }

  /** Runs `open` under a slot of the key; the slot lasts as long as the stream it answers. */
  async stream(principal: Principal, open: () => Promise<Readable>): Promise<Readable> {
    const release = await this.acquire(principal.key_id);
    let stream: Readable;
    try {
      stream = await open();
    } catch (error) {
      release();
      throw error;
    }
    stream.once('close', release);
    return stream;
  }

  /** Takes a slot (waiting briefly for one) or throws RATE_LIMITED; answers the function that gives it back (once). */
  async acquire(keyId: string): Promise<() => void> {
    const slots = this.keys.get(keyId) ?? { used: 0, waiting: [] };
    this.keys.set(keyId, slots);
    if (slots.used < this.limit) {
      slots.used++;
    } else {
      if (slots.waiting.length >= this.limit * 4 || !(await this.waitForSlot(slots))) throw this.refusal();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = slots.waiting.shift();
      if (next) return next(true); // the slot passes on as it is
      slots.used--;
      if (slots.used === 0) this.keys.delete(keyId);
    };
  }

  private waitForSlot(slots: KeySlots): Promise<boolean> {
    return new Promise((resolve) => {
      const granted = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      const timer = setTimeout(() => {
        slots.waiting.splice(slots.waiting.indexOf(granted), 1);
        resolve(false);
      }, this.waitMs);
      slots.waiting.push(granted);
    });
  }

  private refusal(): DomainError {
    return new DomainError(
      'RATE_LIMITED',
      `this API key already has ${this.limit} queries or exports in progress (at most ${this.limit} at once); retry when one has finished`,
      undefined,
      1,
    );
  }

  inFlightFor(keyId: string): number {
    return this.keys.get(keyId)?.used ?? 0;
  }
}
