import { beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import { type InProcessApp, mediumScope, startInProcess } from '../../../../test/support/medium.js';

// Medium: the command audit listing paged by cursor, asked over the real NATS as the gateway asks
// (the pairing app's controllers listening, as main.ts starts them), rows made straight in the real
// PostgreSQL. A page follows on from the last whatever is written meanwhile, and a cursor is a
// position in the asking org's log only.
const scope = await mediumScope();
const { AppModule } = await import('../app.module.js');
const { subjectsFor } = await import('#common');
const subjects = subjectsFor(scope.prefix);

let app: InProcessApp;
let nc: NatsConnection;

beforeAll(async () => {
  app = await startInProcess(AppModule, { answersNats: true });
  nc = await scope.nats();
  await scope.db.query(`INSERT INTO orgs (id, name) VALUES ('paged', 'paged'), ('other', 'other'), ('ties', 'ties'), ('big', 'big')`);
});
scope.onTeardown(() => app?.close());

interface Entry {
  id: string;
  org_id: string;
  command_id: string;
  command: string;
  started_at: string;
}
interface Page {
  commands: Entry[];
  truncated: boolean;
  next_cursor: string | null;
}

async function ask(body: unknown): Promise<{ response?: Page; err?: { code: string; message: string; details?: unknown } }> {
  return (await nc.request(subjects.audit.list, JSON.stringify(body), { timeout: 10_000 })).json();
}

async function page(body: unknown): Promise<Page> {
  const packet = await ask(body);
  expect(packet.err).toBeUndefined();
  return packet.response!;
}

/** Every page from the newest, at most `maxPages`, calling `between` after each. */
async function allPages(orgId: string, limit: number, between: (pages: number) => Promise<void> = async () => undefined) {
  const seen: Entry[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const next: Page = await page({ org_id: orgId, limit, ...(cursor ? { cursor } : {}) });
    seen.push(...next.commands);
    cursor = next.next_cursor;
    pages++;
    await between(pages);
  } while (cursor && pages < 1000);
  return { seen, pages };
}

const insert = (orgId: string, count: number, startedAt = 'now()', command = "'uptime'") =>
  scope.db.query(
    `INSERT INTO command_audit (org_id, key_id, source_id, command_id, command, started_at)
     SELECT $1, gen_random_uuid(), 'lab.0', 'cmd-' || i, ${command}, ${startedAt} FROM generate_series(1, $2::int) AS i`,
    [orgId, count],
  );

const newestFirst = async (orgId: string) =>
  (await scope.db.query(`SELECT id FROM command_audit WHERE org_id = $1 ORDER BY started_at DESC, id DESC`, [orgId])).rows.map(
    (row: { id: string }) => row.id,
  );

describe('command audit listing by cursor (audit.command.list)', () => {
  it('pages newest first through every entry exactly once, next_cursor null on the last page', async () => {
    // One entry a second, so the order is the time order.
    await insert('paged', 250, 'now() - make_interval(secs => i)');
    const { seen, pages } = await allPages('paged', 100);
    expect(pages).toBe(3);
    expect(seen.map((entry) => entry.id)).toEqual(await newestFirst('paged'));
    expect(seen.every((entry) => entry.org_id === 'paged')).toBe(true);
    const first = await page({ org_id: 'paged', limit: 100 });
    expect(first).toMatchObject({ truncated: false, next_cursor: expect.any(String) });
    // A listing that fits its limit has no next page; cursor: null is the first page.
    expect((await page({ org_id: 'paged', limit: 1000 })).next_cursor).toBeNull();
    expect(await page({ org_id: 'paged', limit: 100, cursor: null })).toEqual(first);
  });

  it('pages through entries written at the same microsecond (ties ordered by id), none repeated or skipped', async () => {
    await insert('ties', 95, "'2026-11-30 10:00:00.123456+00'");
    const { seen } = await allPages('ties', 10);
    expect(seen.map((entry) => entry.id)).toEqual(await newestFirst('ties'));
  });

  it('neither repeats nor skips an entry when commands are run between pages; the new ones head the next listing', async () => {
    const before = await newestFirst('paged');
    const { seen } = await allPages('paged', 40, async () => {
      await insert('paged', 7);
    });
    expect(seen.map((entry) => entry.id)).toEqual(before);
    const newest = await page({ org_id: 'paged', limit: 7 });
    expect(newest.commands.every((entry) => !before.includes(entry.id))).toBe(true);
  });

  it('pages a log cut by bytes: truncated pages with a next_cursor that together hold every entry once', async () => {
    // The largest entries (8,192 control characters, 6 bytes each as JSON): ~15 fit in a reply.
    await insert('big', 60, 'now()', `repeat(chr(1), 8192)`);
    const first = await page({ org_id: 'big', limit: 1000 });
    expect(first.truncated).toBe(true);
    expect(first.next_cursor).toEqual(expect.any(String));
    expect(first.commands.length).toBeGreaterThanOrEqual(15);
    const { seen, pages } = await allPages('big', 1000);
    expect(pages).toBeGreaterThan(1);
    expect(seen.map((entry) => entry.id)).toEqual(await newestFirst('big'));
  });

  it("refuses another org's cursor (BAD_REQUEST naming cursor): it never reaches that org's entries", async () => {
    await insert('other', 5);
    const othersCursor = (await page({ org_id: 'other', limit: 2 })).next_cursor;
    expect(othersCursor).toEqual(expect.any(String));
    const packet = await ask({ org_id: 'paged', limit: 10, cursor: othersCursor });
    expect(packet.err).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/"cursor" names no entry of this audit log/) });
    expect(packet.err?.details).toEqual([{ field: 'cursor', message: packet.err?.message }]);
    expect(packet.err?.message).not.toContain('other');
  });

  const decoded = async () => {
    const cursor = (await page({ org_id: 'paged', limit: 3 })).next_cursor!;
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
  };
  const forge = (at: string, id: string) => Buffer.from(JSON.stringify([at, id])).toString('base64url');

  it('refuses a well-formed cursor this API did not hand out: an unknown id, a time one microsecond off', async () => {
    const [at, id] = await decoded();
    // PostgreSQL writes the fraction without trailing zeros (".81224", or none at all on a whole second).
    const microsecondOff = at.replace(
      /(:\d{2})(?:\.(\d{1,6}))?(?=[+-])/,
      (_, seconds: string, digits = '') => `${seconds}.${String((Number(digits.padEnd(6, '0')) + 1) % 1e6).padStart(6, '0')}`,
    );
    expect(microsecondOff).not.toBe(at);
    for (const cursor of [
      forge(at, '00000000-0000-4000-8000-000000000000'),
      forge(microsecondOff, id),
      forge('2026-01-01 00:00:00+00', id),
    ]) {
      expect((await ask({ org_id: 'paged', limit: 3, cursor })).err).toMatchObject({ code: 'BAD_REQUEST', details: [{ field: 'cursor' }] });
    }
    // The position itself, written back as this API writes it, is accepted: the refusals are about the position.
    expect((await ask({ org_id: 'paged', limit: 3, cursor: forge(at, id) })).err).toBeUndefined();
  });

  it.each<[string, unknown]>([
    ['an empty string', ''],
    ['a number', 7],
    ['an object', { at: 'now', id: 'x' }],
    ['an array', ['2026-01-01 00:00:00+00', '00000000-0000-4000-8000-000000000000']],
    ['not base64url', 'not a cursor!'],
    ['base64url of text', Buffer.from('hello').toString('base64url')],
    ['SQL', `' OR org_id <> 'paged`],
    ['NUL', 'eyJ4Ijox\u0000'],
    ['a lone surrogate', '\ud800'],
    ['an invalid date', forge('2026-02-30 00:00:00+00', '00000000-0000-4000-8000-000000000000')],
    ['a uuid PostgreSQL cannot read', forge('2026-01-01 00:00:00+00', 'zzzzzzzz-0000-4000-8000-000000000000')],
    ['100,000 characters', 'A'.repeat(100_000)],
  ])('refuses a cursor that is %s (BAD_REQUEST naming cursor)', async (_, cursor) => {
    const packet = await ask({ org_id: 'paged', limit: 3, cursor });
    expect(packet.err).toMatchObject({ code: 'BAD_REQUEST', details: [{ field: 'cursor' }] });
  });
});
