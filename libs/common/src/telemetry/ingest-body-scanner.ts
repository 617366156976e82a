import { INGEST_LIMITS, pointTimeMicros } from './ingest-schema.js';
import { canonicalTags, type SeriesPoints } from './series-points.js';

/**
 * The fast path of `POST /api/ingest`: the body's bytes read straight into points by series,
 * with no object per point (JSON.parse built two per point, the schema then walked them, and
 * grouping compared them again: about 1 µs a point of the gateway's 1.9 in bench:ingest).
 *
 * It takes only the plain shape numeric telemetry has, and only what the compiled schema
 * (ingest-schema.ts) accepts: `{"points":[…]}` of 1 to 10,000 points, each with exactly the
 * known fields once, printable ASCII strings without escapes, numbers in plain decimal (no
 * exponent), a numeric value, a non-negative timestamp, tags of strings, numbers or booleans.
 * Anything else — another value type, an escape, non-ASCII text, an unknown or repeated field,
 * a number it cannot convert exactly, or any error — makes it give up (undefined), and the body
 * takes the general path (JSON.parse, depth check, schema), which names what is wrong. So it never
 * refuses a body itself, and what it accepts it reads exactly as the general path would: the
 * hostile-input tests drive both, and a differential test compares them on generated bodies.
 */
export class ScannedIngestBody {
  constructor(
    readonly series: SeriesPoints[],
    readonly points: number,
    readonly receivedAtUs: number,
  ) {}
}

/** Reads an ingest body on the fast path, or answers undefined: take the general path. */
export function scanIngestBody(bytes: Uint8Array, receivedAtUs: number): ScannedIngestBody | undefined {
  try {
    return new Scanner(bytes, receivedAtUs).body();
  } catch {
    // GIVE_UP, or anything unforeseen: the general path reads the body and names any problem.
    return undefined;
  }
}

const GIVE_UP = Symbol('general path');
const giveUp = (): never => {
  throw GIVE_UP;
};

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Fields of a point, as bits. */
const METRIC = 1;
const VALUE = 2;
const TIMESTAMP = 4;
const SOURCE_ID = 8;
const TAGS = 16;
const SESSION_ID = 32;
const REQUIRED = METRIC | VALUE | SOURCE_ID;

/** Field names by the index of their bit (METRIC = 1 << 0 …). */
const FIELD_NAMES = ['metric', 'value', 'timestamp', 'source_id', 'tags', 'session_id'].map((name) => Buffer.from(name));
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const POINTS = Buffer.from('points');
/** Tag keys JSON.parse would make own properties that the body parser refuses or treats specially. */
const RESERVED_KEYS = [Buffer.from('__proto__'), Buffer.from('constructor')];
/** 10^0 … 10^22: exact doubles, so an integer below 2^53 divided by one is correctly rounded. */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => 10 ** i);
/** Distinct series sharing one 32-bit hash before the fast path gives up (FNV-1a is easy to collide on purpose). */
const MAX_COLLISIONS = 4;
/** Significant digits that keep the integer part of a decimal below 2^53. */
const EXACT_DIGITS = 15;

/** One series being filled: the span of its first point's identity, to compare later points' with. */
interface Group {
  series: SeriesPoints;
  times: number[];
  nums: number[];
  /** Identity spans in the body: source, metric, session (-1 none), tags (-1 none). */
  spans: Int32Array;
}

class Scanner {
  private at = 0;
  private readonly spans = new Int32Array(8);
  /** Hashes of the current point's source, metric, session and tags (0: absent). */
  private readonly hashes = new Int32Array(4);
  /** Set by string(): where the string's bytes end, and their hash. */
  private end = 0;
  private hash = 0;
  private readonly byHash = new Map<number, Group[]>();
  private readonly byIdentity = new Map<string, Group>();
  private readonly ordered: Group[] = [];
  /** The tags of the current point: per tag key start, key end, value start (−start−1: not a string), value end. */
  private readonly tagSpans = new Int32Array(4 * INGEST_LIMITS.maxTags);
  private tagCount = 0;

  constructor(
    private readonly b: Uint8Array,
    private readonly receivedAtUs: number,
  ) {}

  body(): ScannedIngestBody {
    this.expect(OPEN_OBJECT);
    const start = this.string();
    if (!this.equals(start, this.end, POINTS)) giveUp();
    this.expect(COLON);
    this.expect(OPEN_ARRAY);
    let count = 0;
    for (;;) {
      this.point();
      if (++count > INGEST_LIMITS.maxPoints) giveUp();
      const next = this.next();
      if (next === CLOSE_ARRAY) break;
      if (next !== COMMA) giveUp();
    }
    this.expect(CLOSE_OBJECT);
    this.space();
    if (this.at !== this.b.length) giveUp();
    return new ScannedIngestBody(
      this.ordered.map((group) => group.series),
      count,
      this.receivedAtUs,
    );
  }

  private point(): void {
    this.expect(OPEN_OBJECT);
    const spans = this.spans;
    const hashes = this.hashes;
    for (let i = 0; i < 8; i++) spans[i] = -1;
    hashes[0] = hashes[1] = hashes[2] = hashes[3] = 0;
    let seen = 0;
    let value = 0;
    let timestamp: number | undefined;
    for (;;) {
      const field = this.field();
      if (seen & field) giveUp();
      seen |= field;
      this.expect(COLON);
      this.space();
      if (field === VALUE) value = this.number();
      else if (field === TIMESTAMP) {
        if (this.b[this.at] === MINUS) giveUp();
        timestamp = this.number();
        if (timestamp > INGEST_LIMITS.maxTimestampMs) giveUp();
      } else if (field === TAGS) this.tags();
      else {
        const start = this.string();
        const end = this.end;
        const length = end - start;
        if (field === METRIC) {
          if (length < 1 || length > INGEST_LIMITS.maxMetricLength) giveUp();
          spans[2] = start;
          spans[3] = end;
          hashes[1] = this.hash;
        } else if (field === SOURCE_ID) {
          this.sourceId(start, end);
          spans[0] = start;
          spans[1] = end;
          hashes[0] = this.hash;
        } else {
          if (length < 1 || length > INGEST_LIMITS.maxSessionIdLength) giveUp();
          spans[4] = start;
          spans[5] = end;
          hashes[2] = this.hash;
        }
      }
      const next = this.next();
      if (next === CLOSE_OBJECT) break;
      if (next !== COMMA) giveUp();
    }
    if ((seen & REQUIRED) !== REQUIRED) giveUp();
    const group = this.group();
    group.times.push(pointTimeMicros(timestamp, this.receivedAtUs));
    group.nums.push(value);
  }

  /** The series of the point just read (its identity in `spans`), found by a hash of its bytes or made. */
  private group(): Group {
    const h = this.hashes;
    // 30 bits: a small integer to V8, no heap number per lookup.
    const hash = (Math.imul(Math.imul(Math.imul(h[0] ^ 0x9e3779b9, FNV_PRIME) ^ h[1], FNV_PRIME) ^ h[2], FNV_PRIME) ^ h[3]) & 0x3fffffff;
    let candidates = this.byHash.get(hash);
    if (candidates) {
      for (const group of candidates) if (this.sameIdentity(group.spans)) return group;
      // Many identities under one hash is a body made to collide: the general path groups in linear time.
      if (candidates.length >= MAX_COLLISIONS) giveUp();
    } else this.byHash.set(hash, (candidates = []));
    const group = this.identified();
    candidates.push(group);
    return group;
  }

  /** A group for bytes not seen before: the same series as an earlier one if they mean the same (tags in another order, say). */
  private identified(): Group {
    const spans = this.spans;
    const source = this.text(spans[0], spans[1]);
    const metric = this.text(spans[2], spans[3]);
    const session = spans[4] < 0 ? '' : this.text(spans[4], spans[5]);
    const tags = spans[6] < 0 ? '' : canonicalTags(this.tagObject());
    const identity = `${source}\u0000${metric}\u0000${session}\u0000${tags}`;
    const known = this.byIdentity.get(identity);
    if (known) return { ...known, spans: spans.slice() };
    const times: number[] = [];
    const nums: number[] = [];
    const series: SeriesPoints = { sourceId: source, metric, sessionId: session, tags, timesUs: times, nums, jsons: null };
    const group = { series, times, nums, spans: spans.slice() };
    this.byIdentity.set(identity, group);
    this.ordered.push(group);
    return group;
  }

  private sameIdentity(other: Int32Array): boolean {
    const spans = this.spans;
    for (let s = 0; s < 8; s += 2) if (!this.sameBytes(spans[s], spans[s + 1], other[s], other[s + 1])) return false;
    return true;
  }

  /**
   * Tags: an object of at most 32 printable keys, each once, to strings, numbers or booleans.
   * Kept as spans (no string made per point): the object is built only for a series not seen yet.
   */
  private tags(): void {
    const start = this.at;
    this.expect(OPEN_OBJECT);
    const pairs = this.tagSpans;
    let count = 0;
    let tagsHash = FNV_OFFSET;
    if (this.next() !== CLOSE_OBJECT) {
      this.at--;
      for (;;) {
        if (count >= INGEST_LIMITS.maxTags) giveUp();
        const keyStart = this.string();
        const keyEnd = this.end;
        tagsHash = Math.imul(tagsHash ^ this.hash, FNV_PRIME);
        if (keyEnd === keyStart || keyEnd - keyStart > INGEST_LIMITS.maxTagKeyLength) giveUp();
        if (keyEnd - keyStart === 9 || keyEnd - keyStart === 11)
          for (const reserved of RESERVED_KEYS) if (this.equals(keyStart, keyEnd, reserved)) giveUp();
        for (let k = 0; k < count; k++) if (this.sameBytes(pairs[4 * k], pairs[4 * k + 1], keyStart, keyEnd)) giveUp();
        this.expect(COLON);
        this.space();
        const at = 4 * count++;
        pairs[at] = keyStart;
        pairs[at + 1] = keyEnd;
        tagsHash = Math.imul(tagsHash ^ this.tagValue(pairs, at + 2), FNV_PRIME);
        const next = this.next();
        if (next === CLOSE_OBJECT) break;
        if (next !== COMMA) giveUp();
      }
    }
    this.tagCount = count;
    this.hashes[3] = tagsHash;
    this.spans[6] = start;
    this.spans[7] = this.at;
  }

  /** A tag's value: a string's span, or the span of a number or literal (read again when the tags are built); answers a hash of its bytes. */
  private tagValue(pairs: Int32Array, at: number): number {
    const start = this.at;
    if (this.b[start] === QUOTE) {
      const from = this.string();
      if (this.end - from > INGEST_LIMITS.maxTagValueLength) giveUp();
      pairs[at] = from;
      pairs[at + 1] = this.end;
      return this.hash;
    }
    if (!this.literal('true') && !this.literal('false')) this.number();
    // Negative: not a string; the bytes are a number, `true` or `false`.
    pairs[at] = -start - 1;
    pairs[at + 1] = this.at;
    let hash = FNV_PRIME;
    for (let i = start; i < this.at; i++) hash = Math.imul(hash ^ this.b[i], FNV_PRIME);
    return hash;
  }

  /** The tags of the point just read as the general path's object. */
  private tagObject(): Record<string, string | number | boolean> {
    const tags: Record<string, string | number | boolean> = {};
    const pairs = this.tagSpans;
    for (let k = 0; k < this.tagCount; k++) {
      const key = this.text(pairs[4 * k], pairs[4 * k + 1]);
      const from = pairs[4 * k + 2];
      const to = pairs[4 * k + 3];
      if (from >= 0) tags[key] = this.text(from, to);
      else {
        const literal = this.text(-from - 1, to);
        tags[key] = literal === 'true' ? true : literal === 'false' ? false : Number(literal);
      }
    }
    return tags;
  }

  private sameBytes(aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
    if (aEnd - aStart !== bEnd - bStart) return false;
    for (let i = 0; i < aEnd - aStart; i++) if (this.b[aStart + i] !== this.b[bStart + i]) return false;
    return true;
  }

  private literal(word: 'true' | 'false'): boolean {
    for (let i = 0; i < word.length; i++) if (this.b[this.at + i] !== word.charCodeAt(i)) return false;
    this.at += word.length;
    return true;
  }

  /** A JSON number in plain decimal (`-?(0|[1-9][0-9]*)(\.[0-9]+)?`), converted exactly as JSON.parse does. */
  private number(): number {
    const b = this.b;
    const start = this.at;
    let at = start;
    const negative = b[at] === MINUS;
    if (negative) at++;
    if (b[at] === ZERO) {
      at++;
      if (b[at] >= ZERO && b[at] <= NINE) giveUp();
    } else if (!(b[at] > ZERO && b[at] <= NINE)) giveUp();
    let mantissa = 0;
    let digits = 0;
    let fraction = 0;
    for (; b[at] >= ZERO && b[at] <= NINE; at++, digits++) mantissa = mantissa * 10 + (b[at] - ZERO);
    if (b[at] === DOT) {
      at++;
      const fractionStart = at;
      for (; b[at] >= ZERO && b[at] <= NINE; at++, digits++) mantissa = mantissa * 10 + (b[at] - ZERO);
      fraction = at - fractionStart;
      if (fraction === 0) giveUp();
    }
    // An exponent, or more digits than convert exactly this way: the general path.
    if (b[at] === 0x65 || b[at] === 0x45 || digits > EXACT_DIGITS) giveUp();
    this.at = at;
    const magnitude = mantissa / POWERS_OF_TEN[fraction];
    return negative ? -magnitude : magnitude;
  }

  /**
   * A string of printable ASCII without escapes: answers where its bytes start (after the quote),
   * leaves where they end in `end` and their FNV-1a hash in `hash`.
   */
  private string(): number {
    this.space();
    const b = this.b;
    if (b[this.at] !== QUOTE) giveUp();
    const start = ++this.at;
    let hash = FNV_OFFSET;
    for (let at = start; at < b.length; at++) {
      const byte = b[at];
      if (byte === QUOTE) {
        this.at = at + 1;
        this.end = at;
        this.hash = hash;
        return start;
      }
      // A backslash, control characters, DEL, anything not ASCII: the general path.
      if (byte === 0x5c || byte < 0x20 || byte > 0x7e) giveUp();
      hash = Math.imul(hash ^ byte, FNV_PRIME);
    }
    return giveUp();
  }

  /** source_id: `^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`. */
  private sourceId(start: number, end: number): void {
    if (end - start < 1 || end - start > 128) giveUp();
    for (let at = start; at < end; at++) {
      const c = this.b[at];
      const alphanumeric = (c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
      if (!alphanumeric && (at === start || (c !== DOT && c !== 0x5f && c !== COLON && c !== MINUS))) giveUp();
    }
  }

  /** A point's field name, read in place: its bit (no scan of a general string, no hash). */
  private field(): number {
    this.space();
    const b = this.b;
    const at = this.at;
    if (b[at] !== QUOTE) giveUp();
    let bit: number;
    switch (b[at + 1]) {
      case 0x6d: // metric
        bit = METRIC;
        break;
      case 0x76: // value
        bit = VALUE;
        break;
      case 0x74: // timestamp, tags
        bit = b[at + 2] === 0x69 ? TIMESTAMP : TAGS;
        break;
      case 0x73: // source_id, session_id
        bit = b[at + 2] === 0x6f ? SOURCE_ID : SESSION_ID;
        break;
      default:
        return giveUp();
    }
    const name = FIELD_NAMES[31 - Math.clz32(bit)];
    const end = at + 1 + name.length;
    if (b[end] !== QUOTE || !this.equals(at + 1, end, name)) giveUp();
    this.at = end + 1;
    return bit;
  }

  private equals(start: number, end: number, word: Uint8Array): boolean {
    if (end - start !== word.length) return false;
    for (let i = 0; i < word.length; i++) if (this.b[start + i] !== word[i]) return false;
    return true;
  }

  private text(start: number, end: number): string {
    return Buffer.prototype.latin1Slice.call(this.b, start, end) as string;
  }

  private expect(byte: number): void {
    if (this.next() !== byte) giveUp();
  }

  /** The next byte that is not JSON whitespace, consumed. */
  private next(): number {
    this.space();
    return this.b[this.at++];
  }

  private space(): void {
    const b = this.b;
    let at = this.at;
    // Compact JSON has none: one comparison for a byte above the space.
    while (b[at] <= 0x20 && (b[at] === 0x20 || b[at] === 0x0a || b[at] === 0x0d || b[at] === 0x09)) at++;
    this.at = at;
  }
}
