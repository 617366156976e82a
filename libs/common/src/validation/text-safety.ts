/**
 * PostgreSQL text and jsonb refuse NUL and lone UTF-16 surrogates (`"\ud800"` is valid JSON but not
 * valid Unicode); a request carrying either is refused whole, naming where, before anything is
 * acknowledged. With the `u` flag a surrogate pair is one code point, so the class matches only
 * lone surrogates.
 */
const UNSAFE_CHAR = /[\u0000\uD800-\uDFFF]/u;

/** Depth of nested objects/arrays a request value may have (the JSON parser enforces it first). */
export const MAX_VALUE_DEPTH = 64;

/** How much of a key an error message repeats: errors never echo more than a few bytes of input. */
const KEY_ECHO_CHARS = 48;
const PATH_ECHO_CHARS = 200;

export interface TextProblem {
  /** Where, as `tags.room`, `points[3].value`, `metadata["a b"]`; empty for the value itself. */
  path: string;
  /** What is wrong, to follow the path in a message: "must not contain NUL (\u0000) characters". */
  reason: string;
}

/** Why a string cannot be stored, or undefined when it can. */
export function unsafeTextReason(text: string): string | undefined {
  if (!UNSAFE_CHAR.test(text)) return undefined;
  return text.includes('\u0000') ? 'must not contain NUL (\\u0000) characters' : 'must be valid Unicode (no lone surrogates)';
}

/**
 * The first string (value or object key) in `value` that PostgreSQL cannot store, or a nesting
 * deeper than `maxDepth`. Iterative, so no input can exhaust the stack.
 */
export function findUnsafeText(value: unknown, maxDepth = MAX_VALUE_DEPTH): TextProblem | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: '', depth: 0 }];
  while (stack.length) {
    const { value: current, path, depth } = stack.pop()!;
    if (typeof current === 'string') {
      const reason = unsafeTextReason(current);
      if (reason) return { path, reason };
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= maxDepth) return { path, reason: `must not nest deeper than ${maxDepth} levels` };
    if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index--)
        stack.push({ value: current[index], path: `${path}[${index}]`, depth: depth + 1 });
      continue;
    }
    const entries = Object.entries(current);
    for (let index = entries.length - 1; index >= 0; index--) {
      const [key, child] = entries[index];
      const reason = unsafeTextReason(key);
      if (reason) return { path: joinPath(path, key), reason: `has a key that ${reason}` };
      stack.push({ value: child, path: joinPath(path, key), depth: depth + 1 });
    }
  }
  return undefined;
}

/** `a.b` for plain keys, `a["x y"]` for others, cut short so a message stays small. */
export function joinPath(path: string, key: string): string {
  const plain = key.length <= KEY_ECHO_CHARS && /^[A-Za-z_$][\w$-]*$/.test(key);
  const joined = plain ? (path ? `${path}.${key}` : key) : `${path}[${quoteKey(key)}]`;
  return joined.length > PATH_ECHO_CHARS ? `${joined.slice(0, PATH_ECHO_CHARS)}…` : joined;
}

function quoteKey(key: string): string {
  const shown = key.length > KEY_ECHO_CHARS ? `${key.slice(0, KEY_ECHO_CHARS)}…` : key;
  // JSON.stringify escapes NUL and lone surrogates, so the message itself stays valid text.
  return JSON.stringify(shown);
}
