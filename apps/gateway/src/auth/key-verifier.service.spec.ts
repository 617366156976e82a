import { afterEach, describe, expect, it } from '@jest/globals';
import { DomainError, hashSecret, type Principal, type ServicesClient, type VerifyKeyReply } from '#common';
import { type GatewayConfig, readGatewayConfig } from '../config.js';
import { KeyVerifier } from './key-verifier.service.js';

// The pairing app's side of keys.verify, answering from a table of known keys and counting questions.
class PairingKeys {
  readonly known = new Map<string, Principal>();
  asked = 0;
  /** Runs while an answer is in flight (a revocation arriving meanwhile). */
  duringCall?: () => void;

  readonly client = {
    call: async <T>(_subject: string, request: { key_hash: string }): Promise<T> => {
      this.asked++;
      this.duringCall?.();
      const principal = this.known.get(request.key_hash);
      return (principal ? { valid: true, principal } : { valid: false }) as VerifyKeyReply as T;
    },
  } as unknown as ServicesClient;

  add(key: string, keyId: string, orgId = 'default'): Principal {
    const principal: Principal = { org_id: orgId, org_name: orgId, key_id: keyId, scopes: ['admin'] };
    this.known.set(hashSecret(key), principal);
    return principal;
  }
}

const unauthorized = (promise: Promise<unknown>) => expect(promise).rejects.toThrow(DomainError);
let config: GatewayConfig = readGatewayConfig({});
afterEach(() => {
  config = readGatewayConfig({});
});

describe('KeyVerifier', () => {
  it('asks the pairing app once per key, then answers from the cache, unknown keys included', async () => {
    const pairing = new PairingKeys();
    const principal = pairing.add('plx_good', 'k1');
    const verifier = new KeyVerifier(pairing.client, config);
    for (let i = 0; i < 3; i++) expect(await verifier.verify('plx_good')).toEqual(principal);
    for (let i = 0; i < 3; i++) await unauthorized(verifier.verify('plx_bad'));
    expect(pairing.asked).toBe(2);
  });

  it('forgets a revoked key and every key of a disabled org at once', async () => {
    const pairing = new PairingKeys();
    pairing.add('plx_a', 'ka', 'org1');
    pairing.add('plx_b', 'kb', 'org1');
    pairing.add('plx_c', 'kc', 'org2');
    const verifier = new KeyVerifier(pairing.client, config);
    for (const key of ['plx_a', 'plx_b', 'plx_c']) await verifier.verify(key);
    pairing.known.delete(hashSecret('plx_a'));
    verifier.dropKey('ka');
    await unauthorized(verifier.verify('plx_a'));
    pairing.known.clear();
    verifier.dropOrg('org1');
    await unauthorized(verifier.verify('plx_b'));
    // org2's key was not dropped: still answered from the cache.
    expect((await verifier.verify('plx_c')).key_id).toBe('kc');
  });

  it('does not cache an answer that was in flight while a key was revoked', async () => {
    const pairing = new PairingKeys();
    pairing.add('plx_a', 'ka');
    const verifier = new KeyVerifier(pairing.client, config);
    pairing.duringCall = () => verifier.dropKey('ka');
    await verifier.verify('plx_a');
    pairing.duringCall = undefined;
    await verifier.verify('plx_a');
    expect(pairing.asked).toBe(2);
  });

  it('caches nothing with PLEXUS_KEY_CACHE_TTL_MS=0 (to lru-cache a TTL of 0 would mean forever)', async () => {
    config = readGatewayConfig({ PLEXUS_KEY_CACHE_TTL_MS: '0' });
    const pairing = new PairingKeys();
    pairing.add('plx_a', 'ka');
    const verifier = new KeyVerifier(pairing.client, config);
    await verifier.verify('plx_a');
    await verifier.verify('plx_a');
    expect(pairing.asked).toBe(2);
  });

  it('holds at most 10,000 keys, the least recently used leaving first', async () => {
    const pairing = new PairingKeys();
    pairing.add('plx_busy', 'busy');
    const verifier = new KeyVerifier(pairing.client, config);
    await verifier.verify('plx_busy');
    for (let i = 0; i < 10_000; i++) {
      await verifier.verify(`plx_spray${i}`).catch(() => undefined);
      if (i % 1000 === 0) await verifier.verify('plx_busy');
    }
    const asked = pairing.asked;
    await verifier.verify('plx_busy');
    expect(pairing.asked).toBe(asked);
    await unauthorized(verifier.verify('plx_spray0'));
    expect(pairing.asked).toBe(asked + 1);
  });
});
