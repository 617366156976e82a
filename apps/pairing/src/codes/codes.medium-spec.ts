import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import { type InProcessApp, mediumScope, recorder, startInProcess } from '../../../../test/support/medium.js';
import type { SourcesService as Sources } from '../sources/sources.service.js';
import type { CodesService as Codes } from './codes.service.js';

// Medium: pairing codes and sources in process on the real PostgreSQL and NATS — single use,
// expiry, hashed storage, re-pairing, and the events realtime acts on.
const TTL_SECONDS = 120;
const scope = await mediumScope({ PLEXUS_PAIRING_CODE_TTL_SECONDS: String(TTL_SECONDS) });
const { AppModule } = await import('../app.module.js');
const { CodesService } = await import('./codes.service.js');
const { SourcesService } = await import('../sources/sources.service.js');
const { PAIRING_CODE_ALPHABET } = await import('#common');

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

let app: InProcessApp;
let codes: Codes;
let sources: Sources;
let nc: NatsConnection;

beforeAll(async () => {
  app = await startInProcess(AppModule);
  codes = app.get(CodesService);
  sources = app.get(SourcesService);
  nc = await scope.nats();
});
scope.onTeardown(() => app?.close());

async function pairedDevice(name = 'bench rig'): Promise<{ code: string; device_token: string; source_id: string }> {
  const { code } = await codes.create('default', name);
  return { code, ...(await codes.complete({ code })) };
}

describe('CodesService (pairing, real PostgreSQL)', () => {
  it('makes a 6-character code valid for the configured time, stored only as an HMAC', async () => {
    const before = Date.now();
    const created = await codes.create('default', 'greenhouse');
    expect(created.code).toMatch(new RegExp(`^[${PAIRING_CODE_ALPHABET}]{6}$`));
    const expires = Date.parse(created.expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + TTL_SECONDS * 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + TTL_SECONDS * 1000);
    const { rows } = await scope.db.query(`SELECT row_to_json(c)::text AS whole FROM pairing_codes c`);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.whole).not.toContain(created.code);
    expect(await codes.status('default', created.code)).toEqual({ status: 'pending', expires_at: created.expires_at });
  });

  it('pairs a device once: a source with its name and platform, a token stored as its SHA-256, the code then paired', async () => {
    const { code } = await codes.create('default', 'greenhouse');
    // Codes are read case-insensitively, with the blanks people type around them.
    const paired = await codes.complete({ code: ` ${code.toLowerCase()} `, platform: 'linux-arm64' });
    expect(paired).toEqual({
      device_token: expect.stringMatching(/^plxd_/),
      source_id: expect.stringMatching(/^greenhouse-[0-9a-f]{4}$/),
      org_id: 'default',
      source_name: 'greenhouse',
    });
    const { rows } = await scope.db.query(`SELECT token_hash FROM device_tokens WHERE source_id = $1`, [paired.source_id]);
    expect(rows).toEqual([{ token_hash: sha256(paired.device_token) }]);
    const [source] = (await sources.list('default')).filter((s) => s.source_id === paired.source_id);
    expect(source).toMatchObject({ name: 'greenhouse', platform: 'linux-arm64', online: false });
    expect(await codes.status('default', code)).toMatchObject({ status: 'paired', source_id: paired.source_id });
    expect(await sources.verifyDevice(sha256(paired.device_token))).toEqual({
      valid: true,
      org_id: 'default',
      source_id: paired.source_id,
    });
    await expect(codes.complete({ code })).rejects.toMatchObject({ code: 'CODE_USED' });
  });

  it('lets exactly one of two devices racing with the same code pair', async () => {
    const { code } = await codes.create('default', 'race');
    const outcomes = await Promise.allSettled([codes.complete({ code }), codes.complete({ code })]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: 'CODE_USED' });
    const { rows } = await scope.db.query(`SELECT count(*)::int AS n FROM sources WHERE name = 'race'`);
    expect(rows[0].n).toBe(1);
  });

  it('refuses an expired code (CODE_EXPIRED) and pairs nothing', async () => {
    const { code } = await codes.create('default', 'late');
    await scope.db.query(`UPDATE pairing_codes SET expires_at = now() - interval '1 second' WHERE name = 'late'`);
    await expect(codes.status('default', code)).rejects.toMatchObject({ code: 'CODE_EXPIRED' });
    await expect(codes.complete({ code })).rejects.toMatchObject({ code: 'CODE_EXPIRED' });
    const { rows } = await scope.db.query(`SELECT count(*)::int AS n FROM sources WHERE name = 'late'`);
    expect(rows[0].n).toBe(0);
  });

  it.each<[string, unknown]>([
    ['empty', ''],
    ['5 characters', 'ABCDE'],
    ['7 characters', 'ABCDEFG'],
    ['letters outside the alphabet', 'ABCDE0'],
    ['a NUL', 'ABC\u0000EF'],
    ['a number', 123456],
    ['null', null],
    ['an object', { $ne: '' }],
  ])('refuses a code that is %s (BAD_REQUEST)', async (_, code) => {
    await expect(codes.complete({ code } as never)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('answers CODE_NOT_FOUND for a well-formed code nobody made, and for another org’s code', async () => {
    await expect(codes.complete({ code: 'ZZZZZZ' })).rejects.toMatchObject({ code: 'CODE_NOT_FOUND' });
    const { code } = await codes.create('default', 'mine');
    await expect(codes.status('other-org', code)).rejects.toMatchObject({ code: 'CODE_NOT_FOUND' });
  });

  it.each(['', '../x', '-lead', 'a b', 'x'.repeat(129), 'nul\u0000'])('refuses a source_id %j (BAD_REQUEST)', async (sourceId) => {
    await expect(codes.create('default', 'x', sourceId)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const { code } = await codes.create('default', 'x');
    await expect(codes.complete({ code, source_id: sourceId })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('refuses to pair a code under an already paired source_id (CONFLICT); its token stays valid', async () => {
    const first = await pairedDevice('owned');
    const { code } = await codes.create('default', 'intruder');
    await expect(codes.complete({ code, source_id: first.source_id })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await sources.verifyDevice(sha256(first.device_token))).toMatchObject({ valid: true });
  });

  it('re-pairs a source with a code made for it: a new token, the old one refused, realtime told', async () => {
    const revoked = await recorder(nc, `${scope.prefix}.sources.revoked`);
    const first = await pairedDevice('replaced');
    await expect(codes.create('default', undefined, 'no-such-source')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const { code, source_id } = await codes.create('default', undefined, first.source_id);
    expect(source_id).toBe(first.source_id);
    await expect(codes.complete({ code, source_id: 'another-one' })).rejects.toMatchObject({ code: 'CONFLICT' });
    const again = await codes.complete({ code });
    expect(again).toMatchObject({ source_id: first.source_id, source_name: 'replaced' });
    expect(await revoked.next('the sources.revoked event')).toEqual({ org_id: 'default', source_id: first.source_id });
    expect(await sources.verifyDevice(sha256(first.device_token))).toEqual({ valid: false });
    expect(await sources.verifyDevice(sha256(again.device_token))).toMatchObject({ valid: true, source_id: first.source_id });
  });

  it('refuses a code of a disabled org (FORBIDDEN)', async () => {
    await scope.db.query(`INSERT INTO orgs (id, name, disabled_at) VALUES ('off', 'Off', now())`);
    const { code } = await codes.create('off', 'x');
    await expect(codes.complete({ code })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('SourcesService (pairing, real PostgreSQL and NATS)', () => {
  it('revokes a source: its tokens refused, the source gone, realtime told; again is NOT_FOUND', async () => {
    const revoked = await recorder(nc, `${scope.prefix}.sources.revoked`);
    const device = await pairedDevice('retired');
    expect(await sources.isPaired('default', device.source_id)).toBe(true);
    expect(await sources.revoke('default', device.source_id)).toEqual({ revoked: true, source_id: device.source_id });
    expect(await revoked.next('the sources.revoked event')).toEqual({ org_id: 'default', source_id: device.source_id });
    expect(await sources.verifyDevice(sha256(device.device_token))).toEqual({ valid: false });
    expect(await sources.isPaired('default', device.source_id)).toBe(false);
    expect((await sources.list('default')).map((s) => s.source_id)).not.toContain(device.source_id);
    await expect(sources.revoke('default', device.source_id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('remembers what a connected device says of itself, creating an unpaired source only when asked', async () => {
    await sources.seen({ org_id: 'default', source_id: 'legacy-1', platform: 'esp32', sensors: [], cameras: [] });
    expect((await sources.list('default')).map((s) => s.source_id)).not.toContain('legacy-1');
    await sources.seen({ org_id: 'default', source_id: 'legacy-1', platform: 'esp32', sensors: [], cameras: [], create: true });
    const [seen] = (await sources.list('default')).filter((s) => s.source_id === 'legacy-1');
    expect(seen).toMatchObject({ platform: 'esp32', last_seen: expect.any(String) });
    expect(await sources.isPaired('default', 'legacy-1')).toBe(false);
  });

  it.each(['', 'zz', sha256('x').toUpperCase(), `${sha256('x')}0`, `' OR 1=1 --`])('refuses a device token hash %j', async (hash) => {
    expect(await sources.verifyDevice(hash)).toEqual({ valid: false });
  });
});
