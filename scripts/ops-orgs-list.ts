/**
 * `npm run ops -- orgs.list`: every org, not one page. orgs.list answers in pages (at most 1,000
 * orgs and 512 KiB each); this follows `next_cursor` until it is null and prints one listing,
 * `{ orgs, next_cursor }`, written page by page so memory holds one page whatever the tenancy.
 * Bounded: past MAX_ORG_PAGES pages, a cursor handed back twice, a page that is not one, an error
 * or no answer, it stops with a message, closing the JSON with the `next_cursor` to resume from.
 */

/** 1,000 pages: 1,000,000 orgs of ordinary names, 550,000 at least of the longest. */
export const MAX_ORG_PAGES = 1000;

/** One request to orgs.list: the reply packet, `{ response }` or `{ err }`; throws when nothing answers. */
export type AskOrgsPage = (body: unknown) => Promise<{ response?: unknown; err?: unknown }>;

export interface OrgsListOutput {
  /** Listing text for stdout, in pieces. */
  write(text: string): void;
  /** A message for stderr. */
  warn(text: string): void;
}

/** How it ended: 0 every org printed, 1 stopped early (stderr says why and how to resume). */
export async function listEveryOrg(ask: AskOrgsPage, body: unknown, out: OrgsListOutput, maxPages = MAX_ORG_PAGES): Promise<0 | 1> {
  const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  const asked = new Set<unknown>();
  let request: unknown = body;
  let cursor: unknown = fields?.cursor ?? null;
  let pages = 0;
  let orgs = 0;
  const stop = (problem: string): 1 => {
    const resume = typeof cursor === 'string' ? ` Continue with: npm run ops -- orgs.list '${JSON.stringify({ cursor })}'` : '';
    if (pages > 0) out.write(closing(orgs, cursor));
    out.warn(`orgs.list: ${problem}; stopped after ${pages} page(s), ${orgs} org(s) listed.${resume}`);
    return 1;
  };
  for (;;) {
    if (pages >= maxPages) return stop(`there are more than ${maxPages} pages`);
    asked.add(cursor);
    let packet: { response?: unknown; err?: unknown };
    try {
      packet = await ask(request);
    } catch (error) {
      return stop(`no answer (${(error as Error).message})`);
    }
    if (packet.err !== undefined) {
      // The first page's error is printed as any other subject's is: the operator's request was refused.
      if (pages === 0) {
        out.warn(JSON.stringify(packet.err, null, 2));
        return 1;
      }
      return stop(`the pairing app refused the page: ${JSON.stringify(packet.err).slice(0, 500)}`);
    }
    const page = packet.response as { orgs?: unknown; next_cursor?: unknown } | null;
    if (!page || !Array.isArray(page.orgs) || (page.next_cursor !== null && typeof page.next_cursor !== 'string')) {
      return stop('the answer is not a page of orgs ({ orgs: [...], next_cursor })');
    }
    if (pages === 0) out.write('{\n  "orgs": [');
    for (const org of page.orgs) out.write(`${orgs++ === 0 ? '\n' : ',\n'}${indent(JSON.stringify(org, null, 2))}`);
    pages++;
    if (page.next_cursor === null) {
      cursor = null;
      out.write(closing(orgs, null));
      return 0;
    }
    if (asked.has(page.next_cursor))
      return stop(`the pairing app handed back a cursor it had already given (${page.next_cursor.slice(0, 80)})`);
    cursor = page.next_cursor;
    request = { ...fields, cursor };
  }
}

/** The end of the listing: as JSON.stringify(listing, null, 2) writes it. */
function closing(orgs: number, nextCursor: unknown): string {
  return `${orgs > 0 ? '\n  ]' : ']'},\n  "next_cursor": ${JSON.stringify(nextCursor ?? null)}\n}\n`;
}

function indent(text: string): string {
  return text.replace(/^/gm, '    ');
}
