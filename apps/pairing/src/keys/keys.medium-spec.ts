import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import { type InProcessApp, mediumScope, recorder, startInProcess } from '../../../../test/support/medium.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import type { OrgsService as Orgs } from '../orgs/orgs.service.js';
import type { KeysService as Keys } from './keys.service.js';

// Medium: the pairing app's API keys and orgs in process (its whole module, as main.ts builds it)
// on the real PostgreSQL and NATS — what the gateway and realtime rely on when they verify a key.
const ADMIN_KEY = `plx_${'A1b2C3d4E5'.repeat(4)}`;
const scope = await mediumScope({ PLEXUS_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY });
const { AppModule } = await import('../app.module.js');
const { KeysService } = await import('./keys.service.js');
const { OrgsService } = await import('../orgs/orgs.service.js');
const { KEY_LIMITS } = await import('#common');

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

let app: InProcessApp;
let keys: Keys;
let orgs: Orgs;
let nc: NatsConnection;

beforeAll(async () => {
  app = await startInProcess(AppModule);
  keys = app.get(KeysService);
  orgs = app.get(OrgsService);
  nc = await scope.nats();
});
scope.onTeardown(() => app?.close());

describe('KeysService (pairing, real PostgreSQL and NATS)', () => {
  it('verifies the bootstrap admin key of an empty database as admin of org "default"', async () => {
    const reply = await keys.verify(sha256(ADMIN_KEY));
    expect(reply).toEqual({
      valid: true,
      principal: { org_id: 'default', org_name: 'default', key_id: expect.any(String), scopes: ['admin'] },
    });
  });

  it('stores a new key as its SHA-256 only: the plaintext is in the answer and nowhere in the table', async () => {
    const created = await keys.createForOrg('default', '  ci uploader ', ['write', 'read', 'write']);
    expect(created.key).toMatch(/^plx_[A-Za-z0-9]{40}$/);
    expect(created).toMatchObject({ name: 'ci uploader', scopes: ['write', 'read'], prefix: created.key.slice(0, 10), last_used_at: null });
    const { rows } = await scope.db.query(`SELECT key_hash, row_to_json(k)::text AS whole FROM api_keys k WHERE id = $1`, [created.id]);
    expect(rows[0].key_hash).toBe(sha256(created.key));
    expect(rows[0].whole).not.toContain(created.key);
    expect(rows[0].whole).not.toContain(created.key.slice(10));
  });

  it('answers the principal of a valid key and records its last use', async () => {
    const created = await keys.createForOrg('default', 'reader', ['read']);
    expect(await keys.verify(sha256(created.key))).toEqual({
      valid: true,
      principal: { org_id: 'default', org_name: 'default', key_id: created.id, scopes: ['read'] },
    });
    await waitFor('last_used_at written', async () => {
      const { rows } = await scope.db.query(`SELECT last_used_at FROM api_keys WHERE id = $1`, [created.id]);
      return rows[0].last_used_at !== null;
    });
  });

  it.each([
    ['an unknown hash', sha256('plx_not-a-key')],
    ['the plaintext key instead of its hash', ADMIN_KEY],
    ['an empty string', ''],
    ['upper-case hex', sha256(ADMIN_KEY).toUpperCase()],
    ['65 hex digits', `${sha256(ADMIN_KEY)}0`],
    ['SQL', `' OR '1'='1`],
    ['NUL', `${sha256(ADMIN_KEY).slice(0, 63)}\u0000`],
  ])('refuses %s', async (_, keyHash) => {
    expect(await keys.verify(keyHash)).toEqual({ valid: false });
  });

  it('revokes a key: refused from then on, gone from the list, and every gateway and realtime told', async () => {
    const revoked = await recorder(nc, `${scope.prefix}.keys.revoked`);
    const created = await keys.createForOrg('default', 'short-lived', ['write']);
    expect((await keys.list('default')).keys.map((key) => key.id)).toContain(created.id);
    expect(await keys.revoke('default', created.id)).toEqual({ revoked: true, id: created.id });
    expect(await revoked.next('the keys.revoked event')).toEqual({ org_id: 'default', key_id: created.id });
    expect(await keys.verify(sha256(created.key))).toEqual({ valid: false });
    expect((await keys.list('default')).keys.map((key) => key.id)).not.toContain(created.id);
    await expect(keys.revoke('default', created.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it.each(['', '../default', `' OR 1=1 --`, '00000000-0000-0000-0000-000000000000', 'x'.repeat(10_000)])(
    'answers NOT_FOUND for a key id %j that is malformed or unknown',
    async (keyId) => {
      await expect(keys.revoke('default', keyId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    },
  );

  it.each<[string, unknown, unknown]>([
    ['no name', undefined, ['read']],
    ['a blank name', '   ', ['read']],
    ['a name of 129 characters', 'n'.repeat(129), ['read']],
    ['a name of 129 astral emoji', '\u{1F600}'.repeat(129), ['read']],
    ['a name of 129 code points with combining marks', 'e\u0301'.repeat(64) + 'e', ['read']],
    ['a name with NUL', 'ci\u0000', ['read']],
    ['a name with a lone surrogate', 'ci\ud800', ['read']],
    ['a name that is not text', 42, ['read']],
    ['no scopes', 'k', []],
    ['scopes as a string', 'k', 'admin'],
    ['an unknown scope', 'k', ['read', 'root']],
    ['a null scope', 'k', [null]],
  ])('refuses a key with %s (BAD_REQUEST), storing nothing', async (_, name, scopes) => {
    const before = await scope.db.query(`SELECT count(*)::int AS n FROM api_keys`);
    await expect(keys.createForOrg('default', name, scopes)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const after = await scope.db.query(`SELECT count(*)::int AS n FROM api_keys`);
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('takes a name of 128 code points whatever its UTF-16 length, as PostgreSQL counts them (the gateway’s rule too)', async () => {
    // 128 emoji (256 UTF-16 units); 64 letters with a combining accent; 42 three-code-point ZWJ sequences and two letters.
    for (const name of ['\u{1F600}'.repeat(128), 'e\u0301'.repeat(64), '\u{1F469}\u200d\u{1F4BB}'.repeat(42) + 'ab']) {
      const created = await keys.createForOrg('default', name, ['read']);
      expect(created.name).toBe(name);
      const { rows } = await scope.db.query(`SELECT char_length(name) AS n FROM api_keys WHERE id = $1`, [created.id]);
      expect(rows[0].n).toBe(128);
      await keys.revoke('default', created.id);
    }
  });
});

describe('keys across orgs (pairing, real PostgreSQL and NATS)', () => {
  it('keeps orgs apart: one org cannot revoke or list another’s keys', async () => {
    const other = await orgs.create('acme', 'Acme');
    expect(other.admin_key.key).toMatch(/^plx_/);
    await expect(keys.revoke('default', other.admin_key.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await keys.list('default')).keys.map((key) => key.id)).not.toContain(other.admin_key.id);
    expect(await keys.verify(sha256(other.admin_key.key))).toMatchObject({ valid: true, principal: { org_id: 'acme', org_name: 'Acme' } });
  });

  it('refuses a new key for an org that does not exist (NOT_FOUND) or is disabled (CONFLICT)', async () => {
    await expect(keys.createForOrg('nobody', 'k', ['read'])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await orgs.create('closing', undefined);
    await orgs.disable('closing');
    await expect(keys.createForOrg('closing', 'k', ['read'])).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('refuses the keys of a disabled org like revoked ones and announces the org disabled', async () => {
    const disabled = await recorder(nc, `${scope.prefix}.orgs.disabled`);
    const created = await orgs.create('gone', 'Gone');
    expect(await keys.verify(sha256(created.admin_key.key))).toMatchObject({ valid: true });
    await orgs.disable('gone');
    const ofGone = (event: unknown) => (event as { org_id?: unknown }).org_id === 'gone';
    expect(await disabled.next('the orgs.disabled event of "gone"', ofGone)).toEqual({ org_id: 'gone' });
    expect(await keys.verify(sha256(created.admin_key.key))).toEqual({ valid: false });
  });

  it('refuses a key past the per-org limit of active keys (CONFLICT); a revoked key frees its place', async () => {
    const created = await orgs.create('full', 'Full');
    await scope.db.query(
      `INSERT INTO api_keys (org_id, name, key_hash, prefix, scopes)
       SELECT 'full', 'k', md5('full' || i) || md5(i::text), 'plx_AbCdEf', ARRAY['read'] FROM generate_series(2, $1::int) AS i`,
      [KEY_LIMITS.maxActivePerOrg],
    );
    await expect(keys.createForOrg('full', 'one too many', ['read'])).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining(`at most ${KEY_LIMITS.maxActivePerOrg} active API keys`),
    });
    // Other orgs are not counted with it.
    expect((await keys.createForOrg('default', 'elsewhere', ['read'])).key).toMatch(/^plx_/);
    await keys.revoke('full', created.admin_key.id);
    const replacement = await keys.createForOrg('full', 'replacement', ['admin']);
    expect(replacement.key).toMatch(/^plx_/);
    const { rows } = await scope.db.query(`SELECT count(*)::int AS n FROM api_keys WHERE org_id = 'full' AND revoked_at IS NULL`);
    expect(rows[0].n).toBe(KEY_LIMITS.maxActivePerOrg);
  });

  it('lets exactly one of several creates racing for the last place under the limit through', async () => {
    await orgs.create('racing', 'Racing');
    await scope.db.query(
      `INSERT INTO api_keys (org_id, name, key_hash, prefix, scopes)
       SELECT 'racing', 'k', md5('racing' || i) || md5(i::text), 'plx_AbCdEf', ARRAY['read'] FROM generate_series(3, $1::int) AS i`,
      [KEY_LIMITS.maxActivePerOrg],
    );
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => keys.createForOrg('racing', `racer ${i}`, ['read'])));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes) if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'CONFLICT' });
    const { rows } = await scope.db.query(`SELECT count(*)::int AS n FROM api_keys WHERE org_id = 'racing' AND revoked_at IS NULL`);
    expect(rows[0].n).toBe(KEY_LIMITS.maxActivePerOrg);
  });

  it('refuses a second org under a taken id (CONFLICT) and malformed org ids (BAD_REQUEST)', async () => {
    await expect(orgs.create('default', 'again')).rejects.toMatchObject({ code: 'CONFLICT' });
    for (const id of ['', 'UPPER', '-lead', 'a'.repeat(64), 'dot.ted', 'nul\u0000', 7]) {
      await expect(orgs.create(id, undefined)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    }
  });
});
