import { Injectable } from '@nestjs/common';
import { DomainError, hashSecret, type Principal, SUBJECTS, type VerifyKeyReply } from '#common';
import { GatewayConfig } from '../config.js';
import { ServicesClient } from '#common';

interface CacheEntry {
  principal: Principal | null;
  expiresAt: number;
}

const MAX_ENTRIES = 10_000;
/** Unknown keys are remembered briefly, so a client hammering with a bad key costs one lookup a second. */
const NEGATIVE_TTL_MS = 1_000;

/**
 * Verifies API keys with the pairing app and caches the answer for a short time;
 * a revocation event drops a key at once (`dropKey`).
 */
@Injectable()
export class KeyVerifier {
  private readonly cache = new Map<string, CacheEntry>();
  /** Bumped by every revocation, so an answer that was in flight while a key was revoked is not cached. */
  private revocations = 0;

  constructor(
    private readonly services: ServicesClient,
    private readonly config: GatewayConfig,
  ) {}

  async verify(apiKey: string): Promise<Principal> {
    const keyHash = hashSecret(apiKey);
    const now = Date.now();
    const cached = this.cache.get(keyHash);
    if (cached && cached.expiresAt > now) return this.accept(cached.principal);
    const revocationsBefore = this.revocations;
    const reply = await this.services.call<VerifyKeyReply>(SUBJECTS.keys.verify, { key_hash: keyHash });
    const principal = reply.valid ? reply.principal : null;
    if (revocationsBefore !== this.revocations) return this.accept(principal);
    if (this.cache.size >= MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(keyHash, { principal, expiresAt: now + (principal ? this.config.keyCacheTtlMs : NEGATIVE_TTL_MS) });
    return this.accept(principal);
  }

  dropKey(keyId: string): void {
    this.revocations++;
    for (const [hash, entry] of this.cache) {
      if (entry.principal?.key_id === keyId) this.cache.delete(hash);
    }
  }

  /** A disabled org: none of its keys may be answered from the cache again. */
  dropOrg(orgId: string): void {
    this.revocations++;
    for (const [hash, entry] of this.cache) {
      if (entry.principal?.org_id === orgId) this.cache.delete(hash);
    }
  }

  private accept(principal: Principal | null): Principal {
    if (!principal) throw new DomainError('UNAUTHORIZED', 'API key is invalid or revoked');
    return principal;
  }
}
