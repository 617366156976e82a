import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';

let platform: Platform;
let nc: NatsConnection;

beforeAll(async () => {
  // A long cache, so only the revocation event can explain a key stopping to work.
  platform = await Platform.start({ apps: ['pairing', 'ingest', 'gateway'], env: { PLEXUS_KEY_CACHE_TTL_MS: '600000' } });
  nc = await connect({ servers: platform.env.NATS_URL });
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await platform?.stop();
});

describe('API key verification in the gateway', () => {
  it('caches a verified key and drops it the moment a revocation event arrives', async () => {
    const key = await platform.createKey(['write', 'read']);
    const verified = await platform.api('/api/auth/verify-key', { key });
    expect(verified.status).toBe(200);
    const { key_id: keyId, org_id: orgId } = (await verified.json()) as { key_id: string; org_id: string };

    await platform.db.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, [keyId]);
    // Still cached: the database change alone is not seen for the cache's lifetime.
    expect((await platform.api('/api/auth/verify-key', { key })).status).toBe(200);

    nc.publish(platform.subjects.keys.revoked, JSON.stringify({ org_id: orgId, key_id: keyId }));
    await waitFor('the revoked key to be refused', async () => (await platform.api('/api/auth/verify-key', { key })).status === 401, 5000);
    expect((await platform.ingest([{ metric: 'm', value: 1, source_id: 's' }], { key })).status).toBe(401);
  });

  it("answers the key's org with its display name", async () => {
    const key = await platform.createKey(['read'], 'org-named');
    await platform.db.query(`UPDATE orgs SET name = 'Propulsion Lab' WHERE id = 'org-named'`);
    const verified = await platform.api('/api/auth/verify-key', { key });
    expect(await verified.json()).toEqual({
      valid: true,
      org_id: 'org-named',
      org_name: 'Propulsion Lab',
      key_id: expect.any(String),
      scopes: ['read'],
    });
  });

  it('stores keys only as SHA-256 hashes with a display prefix', async () => {
    const { rows } = await platform.db.query(`SELECT key_hash, prefix FROM api_keys WHERE name = 'bootstrap admin'`);
    expect(rows).toHaveLength(1);
    expect(rows[0].key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].key_hash).not.toContain(platform.adminKey);
    expect(platform.adminKey.startsWith(rows[0].prefix)).toBe(true);
    expect(rows[0].prefix.length).toBeLessThan(12);
  });

  it('answers 503, not 401, for an unverifiable key when the pairing app is away', async () => {
    expect((await platform.api('/api/auth/verify-key')).status).toBe(200);
    await platform.stopApp('pairing');
    const response = await platform.api('/api/auth/verify-key', { key: 'plx_' + 'C'.repeat(40) });
    expect(response.status).toBe(503);
    // A cached key keeps working meanwhile.
    expect((await platform.api('/api/auth/verify-key')).status).toBe(200);
    await platform.startApp('pairing');
  });
});
