/**
 * NATS refuses a message over the server's max_payload (1 MiB by default), and a reply it refuses
 * never reaches the caller, who times out (a 503 at the gateway). A listing that may grow past it
 * stops at a byte budget below it; the envelope (`{"response":{…},"id":…}`) is left room by the budget.
 */
export const REPLY_BUDGET_BYTES = {
  /** Audit entries and keys (pairing): one reply, cut there (`truncated: true`). */
  list: 768 * 1024,
  /** A page of a paged listing (pairing's orgs): the rest follows with `next_cursor`. */
  page: 512 * 1024,
} as const;

/**
 * The leading items whose JSON array stays within `maxBytes`, whole items only, and whether any
 * were left out. Measured as sent: JSON.stringify, then UTF-8 bytes. `atLeastOne`: a page keeps
 * its first item whatever its size (each item alone is bounded elsewhere), so paging always moves on.
 */
export function fitInBytes<T>(items: readonly T[], maxBytes: number, atLeastOne = false): { fitted: T[]; truncated: boolean } {
  let bytes = 2; // []
  let count = 0;
  for (const item of items) {
    bytes += Buffer.byteLength(JSON.stringify(item)) + (count > 0 ? 1 : 0);
    if (bytes > maxBytes && !(atLeastOne && count === 0)) break;
    count++;
  }
  return { fitted: items.slice(0, count), truncated: count < items.length };
}
