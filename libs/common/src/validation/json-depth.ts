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
 * skipped with a native search for its closing quote (most of a telemetry body is strings).
 * Invalid JSON is left to the parser.
 */
export function jsonNestsDeeperThan(text: Buffer | string, maxDepth: number): boolean {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  let depth = 0;
  for (let i = 0; i < bytes.length; i++) {
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

/** Index of the quote that ends the string starting at `from` (one not escaped by an odd run of backslashes), -1 if none. */
function closingQuote(bytes: Buffer, from: number): number {
  for (let at = bytes.indexOf(QUOTE, from); at >= 0; at = bytes.indexOf(QUOTE, at + 1)) {
    let backslashes = 0;
    while (at - 1 - backslashes >= from && bytes[at - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}
