import { beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import { type InProcessApp, mediumScope, startInProcess } from '../../../test/support/medium.js';

// Medium: the pairing app's listings answered over the real NATS (its controllers listening, as
// main.ts starts them) at their worst case, rows made straight in the real PostgreSQL. NATS
// refuses a message over max_payload (1 MiB here), and a reply it refuses is a timeout for the
// caller: each listing must answer, and in one message well under that bound.
const scope = await mediumScope();
const { AppModule } = await import('./app.module.js');
const { KEY_LIMITS, subjectsFor } = await import('#common');
const subjects = subjectsFor(scope.prefix);

let app: InProcessApp;
let nc: NatsConnection;
let maxPayload: number;

beforeAll(async () => {
  app = await startInProcess(AppModule, { answersNats: true });
  nc = await scope.nats();
  maxPayload = nc.info?.max_payload ?? 1024 * 1024;
});
scope.onTeardown(() => app?.close());

/** The raw reply: its size in bytes and the packet (`{ response }` or `{ err }`). */
async function ask(subject: string, body: unknown): Promise<{ bytes: number; packet: { response?: any; err?: any } }> {
  const reply = await nc.request(subject, JSON.stringify(body), { timeout: 10_000 });
  return { bytes: reply.data.length, packet: reply.json() };
}

/**
 * The text that costs most on the wire per UTF-16 unit: a control character JSON writes as
 * `\u0001`, 6 bytes. Nothing on the way in refuses it (only NUL and lone surrogates are).
 */
const costliest = (length: number) => '\u0001'.repeat(length);

describe('command audit listing (audit.command.list)', () => {
  it('answers 1,000 entries of the largest commands in one reply under 768 KiB, saying it was cut', async () => {
    await scope.db.query(`INSERT INTO orgs (id, name) VALUES ('audited', 'audited')`);
    // The largest an entry can be: every text field at the 8,192 characters the audit takes.
    await scope.db.query(
      `INSERT INTO command_audit (org_id, key_id, source_id, command_id, command, finished_at, exit_code)
       SELECT 'audited', gen_random_uuid(), $1, $1 || i, $1, now(), -2147483648 FROM generate_series(1, 1000) AS i`,
      [costliest(8192)],
    );
    const { bytes, packet } = await ask(subjects.audit.list, { org_id: 'audited', limit: 1000 });
    expect(packet.err).toBeUndefined();
    expect(bytes).toBeLessThanOrEqual(768 * 1024 + 1024);
    expect(packet.response.truncated).toBe(true);
    expect(packet.response.next_cursor).toEqual(expect.any(String));
    const { commands } = packet.response as { commands: Array<{ command: string; command_id: string }> };
    expect(commands.length).toBeGreaterThan(0);
    // Whole entries, newest first: nothing cut inside one.
    for (const entry of commands) expect(entry.command).toBe(costliest(8192));
  });

  it('says truncated: false when every asked entry fits', async () => {
    const { packet } = await ask(subjects.audit.list, { org_id: 'audited', limit: 3 });
    expect(packet.response.commands).toHaveLength(3);
    expect(packet.response.truncated).toBe(false);
    // Not cut by bytes, but older entries exist: the page says where they follow.
    expect(packet.response.next_cursor).toEqual(expect.any(String));
  });
});

describe('orgs listing (orgs.list)', () => {
  it('answers 5,000 orgs of the longest names in pages under 512 KiB that together hold every org once', async () => {
    await scope.db.query(`INSERT INTO orgs (id, name) SELECT 'org-' || lpad(i::text, 59, '0'), $1 FROM generate_series(1, 5000) AS i`, [
      costliest(128),
    ]);
    const { rows } = await scope.db.query(`SELECT count(*)::int AS n FROM orgs`);
    const seen: string[] = [];
    let cursor: string | null | undefined;
    do {
      const { bytes, packet } = await ask(subjects.orgs.list, cursor === undefined ? {} : { cursor });
      expect(packet.err).toBeUndefined();
      expect(bytes).toBeLessThanOrEqual(512 * 1024 + 1024);
      seen.push(...packet.response.orgs.map((org: { id: string }) => org.id));
      cursor = packet.response.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(rows[0].n);
    expect(new Set(seen).size).toBe(rows[0].n);
    expect(seen[0]).toBe('default');
  });

  it('answers a small tenancy in one page, as before: every org and next_cursor null', async () => {
    await scope.db.query(`DELETE FROM orgs WHERE id LIKE 'org-%'`);
    const { packet } = await ask(subjects.orgs.list, {});
    expect(packet.response.orgs.map((org: { id: string }) => org.id)).toEqual(['default', 'audited']);
    expect(packet.response.next_cursor).toBeNull();
    expect((await ask(subjects.orgs.list, { cursor: null })).packet.response).toEqual(packet.response);
  });

  it.each<[string, unknown]>([
    ['an org id that does not exist', 'no-such-org'],
    ['an empty string', ''],
    ['a number', 7],
    ['an object', { id: 'default' }],
    ['SQL', `default' OR '1'='1`],
    ['NUL', 'default\u0000'],
    ['a lone surrogate', '\ud800'],
    ['100,000 characters', 'a'.repeat(100_000)],
  ])('refuses a cursor that is %s (BAD_REQUEST naming cursor)', async (_, cursor) => {
    const { packet } = await ask(subjects.orgs.list, { cursor });
    expect(packet.err).toMatchObject({ code: 'BAD_REQUEST', details: [{ field: 'cursor' }] });
  });
});

describe('keys listing (keys.list)', () => {
  const insertKeys = (orgId: string, count: number) =>
    scope.db.query(
      `INSERT INTO api_keys (org_id, name, key_hash, prefix, scopes, last_used_at)
       SELECT $1, $2, md5($1 || i) || md5(i::text || $1), 'plx_AbCdEf', ARRAY['write','read','control','admin'], now()
       FROM generate_series(1, $3::int) AS i`,
      [orgId, costliest(KEY_LIMITS.maxNameLength), count],
    );

  it('lists the most keys an org may have, each of the largest kind, in one reply under half of max_payload', async () => {
    await scope.db.query(`INSERT INTO orgs (id, name) VALUES ('keyed', 'keyed')`);
    await insertKeys('keyed', KEY_LIMITS.maxActivePerOrg);
    const { bytes, packet } = await ask(subjects.keys.list, { org_id: 'keyed' });
    expect(packet.err).toBeUndefined();
    expect(packet.response.keys).toHaveLength(KEY_LIMITS.maxActivePerOrg);
    expect(packet.response.keys[0]).toMatchObject({
      name: costliest(KEY_LIMITS.maxNameLength),
      scopes: ['write', 'read', 'control', 'admin'],
    });
    expect(packet.response.truncated).toBe(false);
    expect(bytes).toBeLessThan(maxPayload / 2);
  });

  it('answers an org that had 5,000 such keys before the limit with the oldest that fit, truncated: true', async () => {
    await scope.db.query(`INSERT INTO orgs (id, name) VALUES ('legacy', 'legacy')`);
    await insertKeys('legacy', 5000);
    const { bytes, packet } = await ask(subjects.keys.list, { org_id: 'legacy' });
    expect(packet.err).toBeUndefined();
    expect(bytes).toBeLessThanOrEqual(768 * 1024 + 1024);
    expect(packet.response.truncated).toBe(true);
    expect(packet.response.keys.length).toBeGreaterThan(KEY_LIMITS.maxActivePerOrg);
  });
});
