/**
 * NATS refuses a message over the server's max_payload (1 MiB by default), and a reply it refuses
 * never reaches the caller, who times out (a 503 at the gateway). A listing that may grow past it
 * stops at a byte budget below it; the envelope (`{"response":{…},"id":…}`) is left room by the budget.
 */
export const REPLY_BUDGET_BYTES = {
  /** Audit entries and keys: one reply, cut there (`truncated: true`). */
  list: 768 * 1024,
  /** A page of a paged listing (orgs): the rest follows with `next_cursor`. */
  page: 512 * 1024,
} as const;

/**
 * The leading items whose JSON array stays within `maxBytes`, whole items only, and whether any
 * were left out. Measured as sent: JSON.stringify, then UTF-8 bytes.
 */
export function fitInBytes<T>(items: readonly T[], maxBytes: number): { fitted: T[]; truncated: boolean } {
  let bytes = 2; // []
  let count = 0;
  for (const item of items) {
    bytes += Buffer.byteLength(JSON.stringify(item)) + (count > 0 ? 1 : 0);
    if (bytes > maxBytes) break;
    count++;
  }
  return { fitted: items.slice(0, count), truncated: count < items.length };
}
