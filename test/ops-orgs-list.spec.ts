import { describe, expect, it } from '@jest/globals';
import { type AskOrgsPage, listEveryOrg } from '../scripts/ops-orgs-list.js';

// Unit: how `npm run ops -- orgs.list` follows orgs.list's pages (the e2e in orgs.e2e-spec.ts runs it
// against the pairing app). Each fake answers from a list of orgs in pages of `size`.
const org = (n: number) => ({ id: `org-${n}`, name: `Org ${n}`, created_at: '2026-01-01T00:00:00.000Z', disabled_at: null });

function pagedOrgs(count: number, size: number): { ask: AskOrgsPage; asked: unknown[] } {
  const orgs = Array.from({ length: count }, (_, index) => org(index));
  const asked: unknown[] = [];
  const ask: AskOrgsPage = async (body) => {
    asked.push(body);
    const cursor = (body as { cursor?: string }).cursor;
    const start = cursor === undefined ? 0 : Number(cursor.slice(4)) + 1;
    const page = orgs.slice(start, start + size);
    const more = start + size < orgs.length;
    return { response: { orgs: page, next_cursor: more ? page[page.length - 1].id : null } };
  };
  return { ask, asked };
}

async function run(ask: AskOrgsPage, body: unknown = {}, maxPages?: number) {
  let stdout = '';
  const stderr: string[] = [];
  const code = await listEveryOrg(ask, body, { write: (text) => (stdout += text), warn: (text) => stderr.push(text) }, maxPages);
  return { code, stdout, stderr: stderr.join('\n') };
}

describe('npm run ops -- orgs.list', () => {
  it('follows next_cursor to the last page and prints every org once, as one JSON listing', async () => {
    const { ask, asked } = pagedOrgs(2500, 1000);
    const { code, stdout, stderr } = await run(ask);
    expect([code, stderr]).toEqual([0, '']);
    const listing = JSON.parse(stdout);
    expect(listing.next_cursor).toBeNull();
    expect(listing.orgs).toHaveLength(2500);
    expect(listing.orgs.map((o: { id: string }) => o.id)).toEqual(Array.from({ length: 2500 }, (_, n) => `org-${n}`));
    expect(asked).toEqual([{}, { cursor: 'org-999' }, { cursor: 'org-1999' }]);
  });

  it('prints exactly what JSON.stringify(listing, null, 2) would, for one page, several and none', async () => {
    for (const [count, size] of [
      [3, 1000],
      [5, 2],
      [0, 10],
    ]) {
      const { stdout } = await run(pagedOrgs(count, size).ask);
      const orgs = Array.from({ length: count }, (_, n) => org(n));
      expect(stdout).toBe(`${JSON.stringify({ orgs, next_cursor: null }, null, 2)}\n`);
    }
  });

  it('starts from the cursor the operator passes', async () => {
    const { ask, asked } = pagedOrgs(30, 10);
    const { code, stdout } = await run(ask, { cursor: 'org-9' });
    expect(code).toBe(0);
    expect(JSON.parse(stdout).orgs).toHaveLength(20);
    expect(asked).toEqual([{ cursor: 'org-9' }, { cursor: 'org-19' }]);
  });

  it('stops past the page bound with a message and the cursor to continue from, the JSON closed', async () => {
    const { ask, asked } = pagedOrgs(100, 10);
    const { code, stdout, stderr } = await run(ask, {}, 3);
    expect(code).toBe(1);
    expect(asked).toHaveLength(3);
    expect(JSON.parse(stdout)).toEqual({ orgs: Array.from({ length: 30 }, (_, n) => org(n)), next_cursor: 'org-29' });
    expect(stderr).toMatch(
      /more than 3 pages; stopped after 3 page\(s\), 30 org\(s\) listed\. Continue with: npm run ops -- orgs\.list '\{"cursor":"org-29"\}'/,
    );
  });

  it('stops when the server hands back a cursor it already gave, instead of looping', async () => {
    let calls = 0;
    const loop: AskOrgsPage = async () => ({ response: { orgs: [org(calls++)], next_cursor: 'same' } });
    const { code, stdout, stderr } = await run(loop);
    expect([code, calls]).toEqual([1, 2]);
    expect(JSON.parse(stdout).orgs).toHaveLength(2);
    expect(stderr).toMatch(/already given/);
  });

  it('prints a refused first page as any refused request, nothing on stdout', async () => {
    const refused: AskOrgsPage = async () => ({ err: { code: 'BAD_REQUEST', message: 'bad cursor' } });
    const { code, stdout, stderr } = await run(refused, { cursor: 'nope' });
    expect([code, stdout]).toEqual([1, '']);
    expect(JSON.parse(stderr)).toEqual({ code: 'BAD_REQUEST', message: 'bad cursor' });
  });

  it('keeps what it listed when a later page fails, is malformed or never comes, saying where to resume', async () => {
    const failures: Array<[string, () => Promise<{ response?: unknown; err?: unknown }>, RegExp]> = [
      ['an error', async () => ({ err: { code: 'SERVICE_UNAVAILABLE', message: 'database away' } }), /refused the page: .*database away/],
      ['no answer', async () => Promise.reject(new Error('TIMEOUT')), /no answer \(TIMEOUT\)/],
      ['not a page', async () => ({ response: { orgs: 'all of them' } }), /not a page of orgs/],
      ['a bad cursor type', async () => ({ response: { orgs: [], next_cursor: 7 } }), /not a page of orgs/],
      ['null', async () => ({ response: null }), /not a page of orgs/],
    ];
    for (const [what, second, problem] of failures) {
      const { ask: first } = pagedOrgs(20, 10);
      let calls = 0;
      const ask: AskOrgsPage = (body) => (calls++ === 0 ? first(body) : second());
      const { code, stdout, stderr } = await run(ask);
      expect([what, code]).toEqual([what, 1]);
      expect(JSON.parse(stdout)).toEqual({ orgs: Array.from({ length: 10 }, (_, n) => org(n)), next_cursor: 'org-9' });
      expect(stderr).toMatch(problem);
      expect(stderr).toMatch(/stopped after 1 page\(s\), 10 org\(s\) listed\. Continue with: .*"cursor":"org-9"/);
    }
  });
});
