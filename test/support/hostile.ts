/**
 * A seeded generator of hostile input: mutations of valid JSON bodies and frames, bad encodings,
 * huge and deeply nested values, wrong types. The same seed gives the same corpus, so a failure
 * found by one run can be replayed.
 */

/** mulberry32: small, fast, good enough to pick mutations. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Random = () => number;

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

/** Strings made to break parsers, databases, subjects and terminals. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\udc00\ud800',
  '\ud83d\ude00',
  '\uffff\ufffe',
  '\u202eevil',
  '%',
  '%00',
  '%ZZ',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  "'; DROP TABLE points; --",
  '=HYPERLINK("http://x")',
  '+1',
  '@SUM(A1)',
  'a.b.c.>',
  '*',
  'x'.repeat(300),
  'y'.repeat(70_000),
  'é'.repeat(5_000),
  '\r\n\t\\"',
];

const SENTINEL_DEEP = '__hostile_deep__';

/** Values of every JSON type and none of the expected ones. */
function hostileValue(random: Random): unknown {
  const kind = Math.floor(random() * 14);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return pick(random, [true, false]);
    case 2:
      return pick(random, [0, -1, 1.5, 1e308, -1e308, 2 ** 63, -(2 ** 63), Number('99999999999999999999999'), 5e-324]);
    case 3:
      return [];
    case 4:
      return {};
    case 5:
      return [pick(random, HOSTILE_STRINGS), 1, null];
    case 6:
      return { [pick(random, HOSTILE_STRINGS)]: pick(random, HOSTILE_STRINGS) };
    case 7:
      return SENTINEL_DEEP;
    case 8:
      return Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, i]));
    default:
      return pick(random, HOSTILE_STRINGS);
  }
}

function paths(
  value: unknown,
  prefix: Array<string | number> = [],
  out: Array<Array<string | number>> = [],
): Array<Array<string | number>> {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((item, i) => paths(item, [...prefix, i], out));
  else if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) paths(item, [...prefix, key], out);
  return out;
}

function setAt(root: unknown, path: Array<string | number>, value: unknown): unknown {
  if (!path.length) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]] = value;
  return copy;
}

function deleteAt(root: unknown, path: Array<string | number>): unknown {
  if (!path.length) return {};
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  if (Array.isArray(node)) node.splice(Number(path[path.length - 1]), 1);
  else delete node[path[path.length - 1]];
  return copy;
}

/** JSON text nested `depth` levels deep, built as text: JSON.stringify would itself overflow. */
export const deepJson = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

function deep(depth: number, random: Random): string {
  return random() < 0.5 ? deepJson(depth) : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

export interface MutatedBody {
  /** What goes on the wire. */
  bytes: Buffer;
  /** A short description for failure messages. */
  label: string;
}

/** One mutation of a valid JSON document: a changed, removed or added field, or broken text. */
export function mutateJson(valid: unknown, random: Random): MutatedBody {
  const strategy = Math.floor(random() * 10);
  const all = paths(valid);
  const path = pick(random, all);
  let document: unknown;
  let label: string;
  switch (strategy) {
    case 0:
    case 1:
    case 2:
    case 3: {
      document = setAt(valid, path, hostileValue(random));
      label = `set ${path.join('.') || '(root)'}`;
      break;
    }
    case 4:
      document = deleteAt(valid, path);
      label = `delete ${path.join('.') || '(root)'}`;
      break;
    case 5: {
      const container = all.filter((p) => {
        const node = p.reduce<unknown>((n, k) => (n as Record<string | number, unknown>)[k], valid);
        return node !== null && typeof node === 'object' && !Array.isArray(node);
      });
      const at = container.length ? pick(random, container) : [];
      document = setAt(valid, [...at, pick(random, HOSTILE_STRINGS) || 'extra'], hostileValue(random));
      label = `add field under ${at.join('.') || '(root)'}`;
      break;
    }
    case 6: {
      const text = JSON.stringify(valid);
      return { bytes: Buffer.from(text.slice(0, Math.floor(random() * text.length))), label: 'truncated JSON' };
    }
    case 7: {
      const text = JSON.stringify(setAt(valid, path, 'UTF8HOLE'));
      const [before, after] = text.split('UTF8HOLE');
      return {
        bytes: Buffer.concat([Buffer.from(before), Buffer.from([0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80]), Buffer.from(after ?? '')]),
        label: `invalid UTF-8 at ${path.join('.')}`,
      };
    }
    case 8:
      document = setAt(valid, path, SENTINEL_DEEP);
      label = `deep nesting at ${path.join('.') || '(root)'}`;
      break;
    default:
      document = hostileValue(random);
      label = 'whole body replaced';
  }
  const text = JSON.stringify(document) ?? 'null';
  const depth = pick(random, [100, 1_000, 10_000, 100_000]);
  return { bytes: Buffer.from(text.split(`"${SENTINEL_DEEP}"`).join(deep(depth, random))), label };
}

/** Path segments that are badly encoded, too long, or mean something elsewhere. */
export const HOSTILE_SEGMENTS: readonly string[] = [
  '%00',
  '%',
  '%ZZ',
  '%ED%A0%80',
  '%F0%9F%98',
  '%C0%AF',
  '..%2F..%2Fetc',
  '%E2%80%AE',
  '%0A%0D',
  'a'.repeat(5_000),
  '%2e%2e',
  '*',
  'a.b.c',
  encodeURIComponent('\ud83d\ude00'),
];

export function hostileSegment(random: Random): string {
  return random() < 0.7
    ? pick(random, HOSTILE_SEGMENTS)
    : encodeURIComponent(pick(random, HOSTILE_STRINGS).replace(/[\ud800-\udfff]/g, 'x')).slice(0, 6000);
}

/** A query string value, raw (may be badly encoded on purpose). */
export function hostileQueryValue(random: Random): string {
  return pick(random, [
    ...HOSTILE_SEGMENTS,
    '99999999999999999999999',
    '-1',
    '1e400',
    '999999999999h',
    '0s',
    'NaN',
    '2024-02-30T25:61:61Z',
    '%27%20OR%201%3D1',
    'avg%00',
  ]);
}

/** Characters that mean something in InfluxDB line protocol, or nothing at all. */
const LINE_PROTOCOL_BITS = [
  ',',
  ' ',
  '=',
  '"',
  '\\',
  '\n',
  '\r\n',
  '#',
  'i',
  'u',
  'e999',
  '9'.repeat(40),
  '-',
  't',
  '\u0000',
  '\ud800',
  'é',
  '\t',
];

/** One mutation of valid line protocol text: inserted special characters or hostile strings, a cut, a flipped byte, a huge line. */
export function mutateText(valid: string, random: Random): MutatedBody {
  const at = Math.floor(random() * (valid.length + 1));
  const strategy = Math.floor(random() * 6);
  switch (strategy) {
    case 0:
    case 1: {
      const inserted = Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(random, LINE_PROTOCOL_BITS)).join('');
      return {
        bytes: Buffer.from(valid.slice(0, at) + inserted + valid.slice(at)),
        label: `inserted ${JSON.stringify(inserted)} at ${at}`,
      };
    }
    case 2:
      return { bytes: Buffer.from(valid.slice(0, at) + pick(random, HOSTILE_STRINGS) + valid.slice(at)), label: `hostile string at ${at}` };
    case 3:
      return { bytes: Buffer.from(valid.slice(0, at)), label: `cut at ${at}` };
    case 4: {
      const bytes = Buffer.from(valid);
      if (bytes.length) bytes[Math.min(at, bytes.length - 1)] = Math.floor(random() * 256);
      return { bytes, label: `byte flipped at ${at}` };
    }
    default: {
      const size = pick(random, [10_000, 100_000, 1_000_000]);
      return { bytes: Buffer.from(`m,host=h f="${'x'.repeat(size)}"\n${valid}`), label: `a ${size}-character string field` };
    }
  }
}
