import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DomainError, hashSecret, type Principal, SUBJECTS, type VerifyKeyReply } from '#common';
import { GatewayConfig } from '../config.js';
import { ServicesClient } from '#common';

/** What the cache holds for a key hash: its principal, or `false` for a key the pairing app does not know. */
type CachedAnswer = Principal | false;

const MAX_ENTRIES = 10_000;
/** Unknown keys are remembered briefly, so a client hammering with a bad key costs one lookup a second. */
const NEGATIVE_TTL_MS = 1_000;

/**
 * Verifies API keys with the pairing app and caches the answer for a short time;
 * a revocation event drops a key at once (`dropKey`). The cache is lru-cache: bounded, least
 * recently used out first (a spray of unknown keys pushes out idle keys before busy ones),
 * a time to live per entry.
 */
@Injectable()
export class KeyVerifier {
  private readonly cache = new LRUCache<string, CachedAnswer>({ max: MAX_ENTRIES });
  /** Bumped by every revocation, so an answer that was in flight while a key was revoked is not cached. */
  private revocations = 0;

  constructor(
    private readonly services: ServicesClient,
    private readonly config: GatewayConfig,
  ) {}

  async verify(apiKey: string): Promise<Principal> {
    const keyHash = hashSecret(apiKey);
    const cached = this.cache.get(keyHash);
    if (cached !== undefined) return this.accept(cached);
    const revocationsBefore = this.revocations;
    const reply = await this.services.call<VerifyKeyReply>(SUBJECTS.keys.verify, { key_hash: keyHash });
    const answer: CachedAnswer = reply.valid ? reply.principal : false;
    const ttl = answer ? this.config.keyCacheTtlMs : NEGATIVE_TTL_MS;
    // A TTL of 0 means "never expires" to lru-cache; to us (PLEXUS_KEY_CACHE_TTL_MS=0) it means "do not cache".
    if (revocationsBefore === this.revocations && ttl > 0) this.cache.set(keyHash, answer, { ttl });
    return this.accept(answer);
  }

  dropKey(keyId: string): void {
    this.drop((principal) => principal.key_id === keyId);
  }

  /** A disabled org: none of its keys may be answered from the cache again. */
  dropOrg(orgId: string): void {
    this.drop((principal) => principal.org_id === orgId);
  }

  private drop(matches: (principal: Principal) => boolean): void {
    this.revocations++;
    // Collected first: deleting while lru-cache iterates would skip entries.
    const hashes: string[] = [];
    this.cache.forEach((answer, hash) => answer && matches(answer) && hashes.push(hash));
    for (const hash of hashes) this.cache.delete(hash);
  }

  private accept(answer: CachedAnswer): Principal {
    if (!answer) throw new DomainError('UNAUTHORIZED', 'API key is invalid or revoked');
    return answer;
  }
}
