import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import { type InProcessApp, mediumScope, startInProcess } from '../../../../test/support/medium.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import type { KeysService as Keys } from '../../../pairing/src/keys/keys.service.js';
import type { KeyVerifier as Verifier } from './key-verifier.service.js';

// Medium: the gateway's key verification against the pairing app, both in this process and
// speaking over the real NATS as in production: answers, the cache, and revocation events.
const ADMIN_KEY = `plx_${'Zy9Xw8Vu7T'.repeat(4)}`;
const scope = await mediumScope({ PLEXUS_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY, PLEXUS_KEY_CACHE_TTL_MS: '600000' });
const { AppModule: PairingModule } = await import('../../../pairing/src/app.module.js');
const { KeysService } = await import('../../../pairing/src/keys/keys.service.js');
const { ApiModule: GatewayModule } = await import('../api.module.js');
const { KeyVerifier } = await import('./key-verifier.service.js');

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

let pairing: InProcessApp;
let gateway: InProcessApp;
let keys: Keys;
let verifier: Verifier;
let nc: NatsConnection;

beforeAll(async () => {
  pairing = await startInProcess(PairingModule, { answersNats: true });
  gateway = await startInProcess(GatewayModule, { answersNats: true });
  keys = pairing.get(KeysService);
  verifier = gateway.get(KeyVerifier);
  nc = await scope.nats();
});
scope.onTeardown(async () => {
  await gateway?.close();
  await pairing?.close();
});

describe('KeyVerifier (gateway ⇄ pairing over real NATS)', () => {
  it('answers the principal of a key the pairing app knows', async () => {
    expect(await verifier.verify(ADMIN_KEY)).toMatchObject({ org_id: 'default', scopes: ['admin'] });
  });

  it.each([
    ['an unknown key', 'plx_unknown'],
    ['an empty key', ''],
    ['5000 characters', 'x'.repeat(5000)],
    ['the key with a trailing blank', `${ADMIN_KEY} `],
    ['the key lower-cased', ADMIN_KEY.toLowerCase()],
  ])('refuses %s (UNAUTHORIZED)', async (_, key) => {
    await expect(verifier.verify(key)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('answers from its cache: a key revoked behind pairing’s back (no event) stays accepted until its entry expires', async () => {
    const created = await keys.createForOrg('default', 'cached', ['read']);
    expect(await verifier.verify(created.key)).toMatchObject({ key_id: created.id });
    await scope.db.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, [created.id]);
    expect(await keys.verify(sha256(created.key))).toEqual({ valid: false });
    // The cache TTL is 10 minutes here: the gateway did not ask pairing again.
    expect(await verifier.verify(created.key)).toMatchObject({ key_id: created.id });
  });

  it('forgets a key as soon as pairing announces its revocation', async () => {
    const created = await keys.createForOrg('default', 'revoked soon', ['write']);
    expect(await verifier.verify(created.key)).toMatchObject({ key_id: created.id });
    await keys.revoke('default', created.id);
    await waitFor('the gateway to refuse the revoked key', () =>
      verifier.verify(created.key).then(
        () => false,
        (error: { code?: string }) => error.code === 'UNAUTHORIZED',
      ),
    );
  });

  it('forgets every key of an org as soon as the org is announced disabled, after ignoring malformed events', async () => {
    const created = await keys.createForOrg('default', 'org key', ['read']);
    await scope.db.query(`INSERT INTO orgs (id, name) VALUES ('soon-off', 'Soon off')`);
    const other = await keys.create('soon-off', 'k', ['read']);
    expect(await verifier.verify(other.key)).toMatchObject({ org_id: 'soon-off' });
    await scope.db.query(`UPDATE orgs SET disabled_at = now() WHERE id = 'soon-off'`);
    // Malformed events first: the subscription must survive them and still act on the real one.
    for (const payload of ['not json', '{}', '{"org_id":42}', 'null', '[]']) nc.publish(`${scope.prefix}.orgs.disabled`, payload);
    nc.publish(`${scope.prefix}.orgs.disabled`, JSON.stringify({ org_id: 'soon-off' }));
    await waitFor('the gateway to refuse the disabled org’s key', () =>
      verifier.verify(other.key).then(
        () => false,
        (error: { code?: string }) => error.code === 'UNAUTHORIZED',
      ),
    );
    // Another org's cached key is untouched.
    expect(await verifier.verify(created.key)).toMatchObject({ org_id: 'default' });
  });
});
