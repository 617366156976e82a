const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * Whether JSON text nests arrays/objects deeper than `maxDepth`, by one pass over the bytes that
 * counts `[`/`{` outside strings. It runs before JSON.parse so that a body nested 10,000 deep is
 * refused before anything recursive (class-transformer, validators, JSON.stringify) meets it.
 * Scanning UTF-8 bytes is exact: multi-byte sequences never contain ASCII bytes. A string is
 * skipped byte by byte while it is short (most of a telemetry body is short strings: keys,
 * names, ids, where a native search per string cost more than the scan), then with a native
 * search for its closing quote. Invalid JSON is left to the parser.
 */
export function jsonNestsDeeperThan(text: Buffer | string, maxDepth: number): boolean {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const length = bytes.length;
  let depth = 0;
  for (let i = 0; i < length; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      i = closingQuote(bytes, i + 1);
      if (i < 0) return false;
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > maxDepth) return true;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

/** Bytes of a string looked at one by one before the native search takes over. */
const SHORT_STRING = 32;

/** Index of the quote that ends the string starting at `from` (one not escaped by an odd run of backslashes), -1 if none. */
function closingQuote(bytes: Buffer, from: number): number {
  const shortEnd = Math.min(bytes.length, from + SHORT_STRING);
  let at = from;
  for (; at < shortEnd; at++) {
    const byte = bytes[at];
    if (byte === QUOTE) return at;
    if (byte === BACKSLASH) at++;
  }
  // `at` is past any escape begun in the short part: only quotes from here on can end the string.
  for (at = bytes.indexOf(QUOTE, at); at >= 0; at = bytes.indexOf(QUOTE, at + 1)) {
    let backslashes = 0;
    while (at - 1 - backslashes >= from && bytes[at - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}
