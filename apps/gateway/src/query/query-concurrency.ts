import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { DomainError, type Principal } from '#common';
import { config } from '../config.js';

/**
 * Queries and exports in flight per API key. Each holds a database cursor at ingest for as long
 * as its HTTP client reads, so one key may not hold more than PLEXUS_QUERY_CONCURRENCY_PER_KEY
 * at once; one more is answered 429 (Retry-After), never queued. A slot is taken before the
 * request leaves for ingest and given back when the answer's stream closes — finished, failed,
 * or cut off because its client stopped reading.
 */
@Injectable()
export class QueryConcurrency {
  private readonly inFlight = new Map<string, number>();
  private limit = config.queryConcurrencyPerKey;

  /** For tests: a limiter with another cap than the configured one. */
  static withLimit(limit: number): QueryConcurrency {
    const limiter = new QueryConcurrency();
    limiter.limit = limit;
    return limiter;
  }

  /** Runs `open` under a slot of the key; the slot lasts as long as the stream it answers. */
  async stream(principal: Principal, open: () => Promise<Readable>): Promise<Readable> {
    const release = this.acquire(principal.key_id);
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

  /** Takes a slot or throws RATE_LIMITED; answers the function that gives it back (once). */
  acquire(keyId: string): () => void {
    const used = this.inFlight.get(keyId) ?? 0;
    if (used >= this.limit) {
      throw new DomainError(
        'RATE_LIMITED',
        `this API key already has ${used} queries or exports in progress (at most ${this.limit} at once); retry when one has finished`,
        undefined,
        1,
      );
    }
    this.inFlight.set(keyId, used + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(keyId) ?? 1) - 1;
      if (left > 0) this.inFlight.set(keyId, left);
      else this.inFlight.delete(keyId);
    };
  }

  inFlightFor(keyId: string): number {
    return this.inFlight.get(keyId) ?? 0;
  }
}
