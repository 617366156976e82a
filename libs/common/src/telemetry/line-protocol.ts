import type { IncomingPoint } from '../messages/telemetry.js';

/*
 * InfluxDB line protocol → Plexus points, for `POST /api/v2/write` and `POST /write`.
 *
 *   measurement[,tag_key=tag_value...] field_key=field_value[,field_key=field_value...] [timestamp]
 *
 * A hand-written single pass over the body (charCodeAt, slices of the body, no regex per value):
 * this is the gateway's hot path. Lines of one series repeat their measurement and tags, so those
 * are parsed once per body and found again by hash (as are field keys → metric names); plain
 * numbers and timestamps are read without Number(). Work is linear in the body: every character
 * is looked at a bounded number of times, the caches are bounded, duplicate checks use a Map past
 * a few keys, and a line never looks past its own newline. Every problem becomes a LineError for
 * its line; other lines still parse (InfluxDB's partial writes). Points of one series share one
 * `tags` object (read-only downstream). Behaviour where the reference leaves room, chosen here:
 *
 * - A raw newline inside a quoted string field value is refused (the string is "not closed on
 *   this line"): lines are split on every `\n`, so a stray quote can never swallow the lines after
 *   it. InfluxDB 1.x/2.x accept such newlines, although their reference says line protocol does
 *   not support them. Inside strings only `\"` and `\\` are escapes; `\n` stays a backslash and an n.
 * - A field key repeated in one line: the last value wins, at the first key's place (InfluxDB's
 *   storage keeps the last; IOx does the same).
 * - A tag with an empty value, a repeated tag key, a line without fields, an empty measurement,
 *   tag key or field key, a field without value: errors (as InfluxDB).
 * - Integers (`i`) outside int64 and unsigned (`u`) outside uint64 are errors (out of range);
 *   floats that overflow a double (`1e400`), NaN and Infinity are errors. Integers beyond ±2^53
 *   are accepted and become the nearest double.
 * - Timestamps must lie in InfluxDB's range (±9223372036854775806 ns once scaled by the
 *   precision). They become Unix seconds with a microsecond fraction; nanoseconds are truncated
 *   toward negative infinity to the microsecond. Negative times are mapped too (the ingest
 *   schema refuses them afterwards).
 * - NUL and lone surrogates anywhere in a line are an error for that line (PostgreSQL cannot
 *   store them), so one such line does not make validateIngestBody refuse the whole body.
 */

export type Precision = 'ns' | 'us' | 'ms' | 's';

export interface LineProtocolOptions {
  precision: Precision;
  /** Tag naming the source; undefined → 'host', then 'source', else the measurement. */
  sourceTag?: string;
  /** Every point gets this session_id when set (the bucket/db as a session). */
  sessionId?: string;
}

export interface LineError {
  /** 1-based line number in the body. */
  line: number;
  message: string;
}

export interface ParsedLines {
  points: IncomingPoint[];
  errors: LineError[];
  /** Non-empty, non-comment lines. */
  lines: number;
  /** The 1-based line of each point (index i of `points`). */
  pointLines: number[];
}

const CR = 13;
const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const HASH = 35;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const EQUALS = 61;
const BACKSLASH = 92;
const LOWER_E = 101;
const UPPER_E = 69;
const LOWER_I = 105;
const LOWER_U = 117;
const PLUS = 43;

const INT64_MAX = '9223372036854775807';
const INT64_MIN_MAGNITUDE = '9223372036854775808';
const UINT64_MAX = '18446744073709551615';
/** InfluxDB's time range, ±9223372036854775806 ns, as the largest magnitude in each precision. */
const TIME_BOUND: Record<Precision, string> = {
  ns: '9223372036854775806',
  us: '9223372036854775',
  ms: '9223372036854',
  s: '9223372036',
};
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
/** Series (measurement and tags) and metric names remembered per body: bounded, as bodies may be hostile. */
const SERIES_CACHE_SIZE = 4096;
const METRIC_CACHE_SIZE = 256;
/** Field keys per line checked by a linear scan before a Map takes over (keeps hostile lines linear). */
const LINEAR_DUPLICATE_CHECK = 16;
/** NUL or a lone surrogate; with the u flag a surrogate pair is one code point and does not match. */
const UNSTORABLE = /[\u0000\uD800-\uDFFF]/u;
/**
 * Cheaper first look at the whole body: any surrogate, pairs (emoji) included, then UNSTORABLE
 * decides. V8 answers at once for a one-byte string, which cannot hold one; NUL is left to indexOf.
 */
const SURROGATE = /[\uD800-\uDFFF]/;

/** Thrown inside one line's parse, caught per line: a syntax error with its column. */
class LineSyntaxError {
  constructor(readonly message: string) {}
}

/** A quoted, shortened excerpt of user text for an error message. */
function excerpt(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

function describeChar(code: number): string {
  if (Number.isNaN(code)) return 'the end of the line';
  if (code === SPACE) return 'a space';
  if (code === COMMA) return "','";
  if (code === EQUALS) return "'='";
  return excerpt(String.fromCharCode(code));
}

/** Compares two digit strings without leading zeros as unsigned integers. */
function digitsGreater(digits: string, bound: string): boolean {
  return digits.length > bound.length || (digits.length === bound.length && digits > bound);
}

function stripLeadingZeros(digits: string): string {
  let i = 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === ZERO) i++;
  return i === 0 ? digits : digits.slice(i);
}

interface Series {
  /** Where in the body the series was first seen: the line's text up to the space before the fields. */
  textStart: number;
  textLength: number;
  measurement: string;
  tags: Record<string, string> | undefined;
  sourceId: string;
  /** `<measurement>.` */
  prefix: string;
  /** Hash of a field key (as in the line) → the key, where it was first seen, and its metric name. */
  metrics: Map<number, { key: string; keyStart: number; metric: string }>;
}

class Scanner {
  private pos = 0;
  private readonly seriesCache = new Map<number, Series>();
  private lineStart = 0;
  private end = 0;
  private readonly fieldMetrics: string[] = [];
  private readonly fieldValues: (number | string | boolean)[] = [];
  /** Fields of the current line held in the two arrays above (reused, not truncated, per line). */
  private fieldCount = 0;
  private fieldIndex: Map<string, number> | undefined;

  constructor(
    private readonly body: string,
    private readonly options: LineProtocolOptions,
    private readonly points: IncomingPoint[],
  ) {}

  private fail(at: number, what: string): never {
    throw new LineSyntaxError(`column ${at - this.lineStart + 1}: ${what}`);
  }

  private charAt(i: number): number {
    return i < this.end ? this.body.charCodeAt(i) : NaN;
  }

  /**
   * Reads a measurement, tag key, tag value or field key from this.pos up to an unescaped ',' or
   * space (or '=' when stopAtEquals). A backslash escapes ',' and space, and '=' when escapeEquals
   * (not in measurements); before anything else it is literal (InfluxDB's rule).
   */
  private readName(escapeEquals: boolean, stopAtEquals: boolean): string {
    const body = this.body;
    const end = this.end;
    const start = this.pos;
    let i = start;
    let escaped = false;
    for (; i < end; i++) {
      const c = body.charCodeAt(i);
      if (c === COMMA || c === SPACE || (stopAtEquals && c === EQUALS)) break;
      if (c === BACKSLASH && i + 1 < end) {
        const next = body.charCodeAt(i + 1);
        if (next === COMMA || next === SPACE || (escapeEquals && next === EQUALS)) {
          escaped = true;
          i++;
        }
      }
    }
    this.pos = i;
    return escaped ? unescapeName(body, start, i, escapeEquals) : body.slice(start, i);
  }

  /** The measurement and tags at this.pos, up to the space before the fields. */
  private parseSeries(textStart: number, textEnd: number): Series {
    const end = this.end;
    const options = this.options;
    const measurementStart = this.pos;
    const measurement = this.readName(false, false);
    if (measurement.length === 0) this.fail(measurementStart, `expected a measurement name, found ${describeChar(this.charAt(this.pos))}`);
    if (this.pos >= end) this.fail(this.pos, `expected a space and fields after measurement ${excerpt(measurement)}, found the end of the line`);
    // Tags. The source tag is held aside rather than deleted from the object afterwards.
    const sourceTag = options.sourceTag;
    let tags: Record<string, string> | undefined;
    let host: string | undefined;
    let source: string | undefined;
    let chosen: string | undefined;
    while (this.charAt(this.pos) === COMMA) {
      this.pos++;
      const keyStart = this.pos;
      const key = this.readName(true, true);
      if (key.length === 0) this.fail(keyStart, `expected a tag key after ',', found ${describeChar(this.charAt(this.pos))}`);
      if (this.charAt(this.pos) !== EQUALS) this.fail(this.pos, `expected '=' after tag key ${excerpt(key)}, found ${describeChar(this.charAt(this.pos))}`);
      this.pos++;
      const valueStart = this.pos;
      const value = this.readName(true, true);
      if (value.length === 0) this.fail(valueStart, `tag ${excerpt(key)} has an empty value (omit the tag instead), found ${describeChar(this.charAt(this.pos))}`);
      const after = this.charAt(this.pos);
      if (after === EQUALS) this.fail(this.pos, `unescaped '=' in the value of tag ${excerpt(key)} (write \\=)`);
      if (Number.isNaN(after)) this.fail(this.pos, `expected a space and fields after the tags, found the end of the line`);
      if (sourceTag !== undefined) {
        if (key === sourceTag) {
          if (chosen !== undefined) this.duplicateTag(keyStart, key);
          chosen = value;
          continue;
        }
      } else if (key === 'host') {
        if (host !== undefined) this.duplicateTag(keyStart, key);
        host = value;
        continue;
      } else if (key === 'source') {
        if (source !== undefined) this.duplicateTag(keyStart, key);
        source = value;
        continue;
      }
      if (tags === undefined) tags = {};
      else if (Object.prototype.hasOwnProperty.call(tags, key)) this.duplicateTag(keyStart, key);
      setTag(tags, key, value);
    }
    let sourceId: string;
    if (sourceTag !== undefined) sourceId = chosen ?? measurement;
    else if (host !== undefined) {
      sourceId = host;
      if (source !== undefined) {
        if (tags === undefined) tags = {};
        setTag(tags, 'source', source);
      }
    } else sourceId = source ?? measurement;

    if (this.charAt(this.pos) !== SPACE) this.fail(this.pos, `expected a space before the fields, found ${describeChar(this.charAt(this.pos))}`);
    return { textStart, textLength: textEnd - textStart, measurement, tags, sourceId, prefix: `${measurement}.`, metrics: new Map() };
  }

  /** Parses body[first, end); columns in messages count from lineStart, the line's first character. */
  parseLine(lineStart: number, first: number, end: number): void {
    this.lineStart = lineStart;
    this.end = end;
    this.pos = first;
    const body = this.body;
    const options = this.options;

    // Lines of one series repeat its measurement and tags verbatim: parse that text once per body.
    // A series is found by a hash of its text, up to the first unescaped space (a backslash before
    // a space always escapes it there), and confirmed by comparing the text: nothing is cut out of the
    // body for a known series. Colliding texts are simply not cached.
    let hash = 0;
    let space = first;
    let previous = 0;
    for (; space < end; space++) {
      const c = body.charCodeAt(space);
      if (c === SPACE && previous !== BACKSLASH) break;
      hash = (Math.imul(hash, 31) + c) | 0;
      previous = c;
    }
    let series: Series | undefined;
    if (space < end) {
      const cached = this.seriesCache.get(hash);
      if (cached !== undefined && sameText(body, first, space, cached.textStart, cached.textLength)) series = cached;
    }
    if (series === undefined) {
      series = this.parseSeries(first, space);
      if (space < end && this.seriesCache.size < SERIES_CACHE_SIZE && !this.seriesCache.has(hash)) this.seriesCache.set(hash, series);
    } else this.pos = space;
    const { measurement, tags, sourceId } = series;

    // The space(s) before the field set.
    while (this.pos < end && body.charCodeAt(this.pos) === SPACE) this.pos++;
    if (this.pos >= end) this.fail(this.pos, 'expected fields (key=value), found the end of the line; a line needs at least one field');

    // Fields.
    const metrics = this.fieldMetrics;
    const values = this.fieldValues;
    this.fieldCount = 0;
    this.fieldIndex = undefined;
    for (;;) {
      const keyStart = this.pos;
      // Common case first: a key without escapes, whose metric name the series remembers.
      let i = keyStart;
      let keyHash = 0;
      while (i < end) {
        const c = body.charCodeAt(i);
        if (c === EQUALS || c === COMMA || c === SPACE || c === BACKSLASH) break;
        keyHash = (Math.imul(keyHash, 31) + c) | 0;
        i++;
      }
      let key: string;
      let metric: string | undefined;
      const plainKey = i > keyStart && i < end && body.charCodeAt(i) === EQUALS;
      if (plainKey) {
        const cached = series.metrics.get(keyHash);
        if (cached !== undefined && sameText(body, keyStart, i, cached.keyStart, cached.key.length)) {
          key = cached.key;
          metric = cached.metric;
        } else key = body.slice(keyStart, i);
        this.pos = i;
      } else key = this.readName(true, true);
      if (key.length === 0) this.fail(keyStart, `expected a field key, found ${describeChar(this.charAt(this.pos))}`);
      if (this.charAt(this.pos) !== EQUALS) this.fail(this.pos, `expected '=' after field key ${excerpt(key)}, found ${describeChar(this.charAt(this.pos))}`);
      this.pos++;
      const value = this.readFieldValue(key);
      if (metric === undefined) {
        metric = key === 'value' ? measurement : series.prefix + key;
        if (plainKey && series.metrics.size < METRIC_CACHE_SIZE && !series.metrics.has(keyHash)) series.metrics.set(keyHash, { key, keyStart, metric });
      }
      this.addField(metric, value);
      const next = this.charAt(this.pos);
      if (next === COMMA) {
        this.pos++;
        continue;
      }
      if (next === SPACE || Number.isNaN(next)) break;
      this.fail(this.pos, `expected ',' or a space after the value of field ${excerpt(key)}, found ${describeChar(next)}`);
    }

    // Optional timestamp, surrounded by optional spaces.
    while (this.pos < end && body.charCodeAt(this.pos) === SPACE) this.pos++;
    let timestamp: number | undefined;
    if (this.pos < end) {
      timestamp = this.readTimestamp();
      while (this.pos < end && body.charCodeAt(this.pos) === SPACE) this.pos++;
      if (this.pos < end) this.fail(this.pos, `unexpected text after the timestamp: ${excerpt(body.slice(this.pos, Math.min(end, this.pos + 40)))}`);
    }

    const sessionId = options.sessionId;
    const points = this.points;
    const fieldCount = this.fieldCount;
    for (let f = 0; f < fieldCount; f++) {
      // Points of one series share their tags object: downstream reads it, never changes it.
      // Object literals of fixed shapes: faster to build than adding properties one by one.
      let point: IncomingPoint;
      if (tags !== undefined) {
        point = timestamp !== undefined
          ? { metric: metrics[f], value: values[f], source_id: sourceId, tags, timestamp }
          : { metric: metrics[f], value: values[f], source_id: sourceId, tags };
      } else {
        point = timestamp !== undefined
          ? { metric: metrics[f], value: values[f], source_id: sourceId, timestamp }
          : { metric: metrics[f], value: values[f], source_id: sourceId };
      }
      if (sessionId !== undefined) point.session_id = sessionId;
      points.push(point);
    }
  }

  private duplicateTag(at: number, key: string): never {
    this.fail(at, `tag key ${excerpt(key)} appears twice in the line`);
  }

  /** Last value wins for a repeated field key, at the first one's place. */
  private addField(metric: string, value: number | string | boolean): void {
    const metrics = this.fieldMetrics;
    const count = this.fieldCount;
    if (count < LINEAR_DUPLICATE_CHECK) {
      for (let f = 0; f < count; f++) {
        if (metrics[f] === metric) {
          this.fieldValues[f] = value;
          return;
        }
      }
    } else {
      let index = this.fieldIndex;
      if (index === undefined) {
        index = new Map();
        for (let f = 0; f < count; f++) index.set(metrics[f], f);
        this.fieldIndex = index;
      }
      const existing = index.get(metric);
      if (existing !== undefined) {
        this.fieldValues[existing] = value;
        return;
      }
      index.set(metric, count);
    }
    metrics[count] = metric;
    this.fieldValues[count] = value;
    this.fieldCount = count + 1;
  }

  private readFieldValue(key: string): number | string | boolean {
    const body = this.body;
    const end = this.end;
    const start = this.pos;
    if (start >= end) this.fail(start, `expected a value for field ${excerpt(key)}, found the end of the line`);
    const first = body.charCodeAt(start);
    if (first === QUOTE) return this.readString(key);
    const numeric = first === MINUS || first === DOT || (first >= ZERO && first <= NINE);
    if (numeric) {
      const plain = this.plainNumber(start);
      if (plain === plain) return plain; // not NaN: the fast path decided
    }
    // Unquoted values end at ',' or ' ' (or the end of the line).
    let i = start;
    while (i < end) {
      const c = body.charCodeAt(i);
      if (c === COMMA || c === SPACE) break;
      i++;
    }
    this.pos = i;
    if (i === start) this.fail(start, `expected a value for field ${excerpt(key)}, found ${describeChar(first)}`);
    if (numeric) return this.number(key, start, i);
    const token = body.slice(start, i);
    switch (token) {
      case 't':
      case 'T':
      case 'true':
      case 'True':
      case 'TRUE':
        return true;
      case 'f':
      case 'F':
      case 'false':
      case 'False':
      case 'FALSE':
        return false;
    }
    this.fail(
      start,
      `the value of field ${excerpt(key)} must be a number (1.5, 3i, 3u), a "quoted string" or a boolean (t, true, f, false…), found ${excerpt(token)}`,
    );
  }

  /** A quoted string: `\"` and `\\` are escapes, any other backslash is literal; closed on this line. */
  private readString(key: string): string {
    const body = this.body;
    const end = this.end;
    const open = this.pos;
    let i = open + 1;
    let escaped = false;
    for (; i < end; i++) {
      const c = body.charCodeAt(i);
      if (c === QUOTE) break;
      if (c === BACKSLASH && i + 1 < end) {
        const next = body.charCodeAt(i + 1);
        if (next === QUOTE || next === BACKSLASH) {
          escaped = true;
          i++;
        }
      }
    }
    if (i >= end) {
      this.fail(open, `the string value of field ${excerpt(key)} is not closed on this line (a '"' inside it is written \\", and a newline cannot appear inside a string)`);
    }
    this.pos = i + 1;
    return escaped ? unescapeString(body, open + 1, i) : body.slice(open + 1, i);
  }

  /**
   * The common numbers without Number(): -?digits[.digits] with at most 15 digits, or such an
   * integer with `i`/`u`. The mantissa and 10^k are exact doubles, so mantissa / 10^k is correctly
   * rounded, the same double Number() gives. NaN: anything else, left to number().
   */
  private plainNumber(start: number): number {
    const body = this.body;
    const end = this.end;
    let i = start;
    const negative = body.charCodeAt(i) === MINUS;
    if (negative) i++;
    let mantissa = 0;
    let digits = 0;
    let dot = -1;
    for (; i < end; i++) {
      const c = body.charCodeAt(i);
      if (c >= ZERO && c <= NINE) {
        mantissa = mantissa * 10 + (c - ZERO);
        digits++;
      } else if (c === DOT && dot < 0) dot = i;
      else break;
    }
    if (digits === 0 || digits > 15) return NaN;
    let c = i < end ? body.charCodeAt(i) : SPACE;
    if (c === LOWER_I || c === LOWER_U) {
      if (dot >= 0 || (c === LOWER_U && negative)) return NaN;
      i++;
      c = i < end ? body.charCodeAt(i) : SPACE;
      if (c !== COMMA && c !== SPACE) return NaN;
      this.pos = i;
      return negative ? -mantissa : mantissa;
    }
    if (c !== COMMA && c !== SPACE) return NaN;
    this.pos = i;
    const fraction = dot < 0 ? 0 : i - dot - 1;
    const value = fraction === 0 ? mantissa : mantissa / POW10[fraction];
    return negative ? -value : value;
  }

  /** A float, an integer (`i`) or an unsigned integer (`u`) in body[start, stop). */
  private number(key: string, start: number, stop: number): number {
    const body = this.body;
    const last = body.charCodeAt(stop - 1);
    const negative = body.charCodeAt(start) === MINUS;
    if (last === LOWER_I || last === LOWER_U) {
      let i = negative ? start + 1 : start;
      if (i >= stop - 1) this.numberError(key, start, stop, 'is not a valid integer');
      for (; i < stop - 1; i++) {
        const c = body.charCodeAt(i);
        if (c < ZERO || c > NINE) this.numberError(key, start, stop, last === LOWER_I ? 'is not a valid integer (digits then i)' : 'is not a valid unsigned integer (digits then u)');
      }
      if (last === LOWER_U && negative) this.numberError(key, start, stop, 'is an unsigned integer (u) and cannot be negative');
      const digits = stripLeadingZeros(body.slice(negative ? start + 1 : start, stop - 1));
      const bound = last === LOWER_U ? UINT64_MAX : negative ? INT64_MIN_MAGNITUDE : INT64_MAX;
      if (digitsGreater(digits, bound)) {
        this.numberError(key, start, stop, last === LOWER_U ? 'is out of range for an unsigned 64-bit integer' : 'is out of range for a signed 64-bit integer');
      }
      // Beyond ±2^53 an integer becomes the nearest double: JSON numbers are doubles downstream.
      const magnitude = Number(digits);
      return negative ? -magnitude : magnitude;
    }
    // Float: -?(digits)(.digits?)?([eE][+-]?digits)? with at least one mantissa digit, or -?.digits…
    let i = negative ? start + 1 : start;
    let mantissaDigits = 0;
    while (i < stop && isDigit(body.charCodeAt(i))) {
      i++;
      mantissaDigits++;
    }
    if (i < stop && body.charCodeAt(i) === DOT) {
      i++;
      while (i < stop && isDigit(body.charCodeAt(i))) {
        i++;
        mantissaDigits++;
      }
    }
    if (mantissaDigits === 0) this.numberError(key, start, stop, 'is not a valid number');
    if (i < stop) {
      const c = body.charCodeAt(i);
      if (c !== LOWER_E && c !== UPPER_E) this.numberError(key, start, stop, 'is not a valid number');
      i++;
      if (i < stop && (body.charCodeAt(i) === PLUS || body.charCodeAt(i) === MINUS)) i++;
      const exponentStart = i;
      while (i < stop && isDigit(body.charCodeAt(i))) i++;
      if (i === exponentStart || i < stop) this.numberError(key, start, stop, 'is not a valid number');
    }
    const value = Number(body.slice(start, stop));
    if (!Number.isFinite(value)) this.numberError(key, start, stop, 'is out of range for a 64-bit float');
    return value;
  }

  private numberError(key: string, start: number, stop: number, why: string): never {
    this.fail(start, `the value of field ${excerpt(key)} ${why}, found ${excerpt(this.body.slice(start, stop))}`);
  }

  private timestampError(start: number, stop: number, why: string): never {
    this.fail(start, `${why}, found ${excerpt(this.body.slice(start, stop))}`);
  }

  /**
   * The optional timestamp, an integer in units of options.precision, as Unix seconds with a
   * microsecond fraction. Exact integer arithmetic on the digit string: a 19-digit nanosecond
   * count does not fit a double. Nanoseconds are truncated toward negative infinity to the
   * microsecond (-1500 ns is -2 µs), as a floor keeps every instant inside its microsecond.
   * The result is always below 1e11 seconds (InfluxDB's range ends in 2262), so it is never
   * read as milliseconds by pointTimeMicros.
   */
  private readTimestamp(): number {
    const body = this.body;
    const end = this.end;
    const start = this.pos;
    const precision = this.options.precision;
    // Common case in one pass: a non-negative count whose microseconds stay below 2^53, so that
    // `head` (the digits but the last three in ns) is exact and, once scaled, inside InfluxDB's range.
    let head = 0;
    let d = start;
    if (precision === 'ns') {
      for (; d < end; d++) {
        const c = body.charCodeAt(d);
        if (c < ZERO || c > NINE) break;
        if (d - start >= 3) head = head * 10 + (body.charCodeAt(d - 3) - ZERO);
      }
    } else {
      for (; d < end; d++) {
        const c = body.charCodeAt(d);
        if (c < ZERO || c > NINE) break;
        head = head * 10 + (c - ZERO);
      }
    }
    const length = d - start;
    if ((d === end || body.charCodeAt(d) === SPACE) && head < 2 ** 53 && (precision === 'ns' ? length > 3 && length <= 19 : length > 0 && length <= 15)) {
      this.pos = d;
      if (precision === 'ns' || precision === 'us') return head / 1_000_000;
      if (precision === 'ms' && head <= 9_223_372_036_854) return (head * 1000) / 1_000_000;
      if (precision === 's' && head <= 9_223_372_036) return (head * 1_000_000) / 1_000_000;
    }
    let i = d;
    while (i < end && body.charCodeAt(i) !== SPACE) i++;
    this.pos = i;
    const negative = body.charCodeAt(start) === MINUS;
    const digitsStart = negative ? start + 1 : start;
    if (digitsStart >= i) this.timestampError(start, i, 'expected a timestamp (an integer)');
    for (let d = digitsStart; d < i; d++) {
      if (!isDigit(body.charCodeAt(d))) this.timestampError(start, i, 'expected a timestamp (an integer, in the request\'s precision) or the end of the line');
    }
    const digits = stripLeadingZeros(body.slice(digitsStart, i));
    if (digitsGreater(digits, TIME_BOUND[precision])) {
      this.timestampError(start, i, `timestamp is out of range (InfluxDB's range is ±9223372036854775806 ns, here in ${precision})`);
    }
    let micros: number;
    switch (precision) {
      case 'ns': {
        const headDigits = digits.length > 3 ? digits.slice(0, digits.length - 3) : '0';
        const restNonZero = digits.length > 3 ? !allZeros(digits, digits.length - 3) : digits !== '0';
        if (!negative) micros = Number(headDigits);
        else if (!restNonZero) micros = 0 - Number(headDigits);
        // head + 1 must be rounded once: past 2^53 µs (before 1685), Number(head) + 1 would round twice.
        else micros = headDigits.length < 16 ? -1 - Number(headDigits) : Number(-1n - BigInt(headDigits));
        break;
      }
      case 'us':
        micros = negative ? 0 - Number(digits) : Number(digits);
        break;
      case 'ms':
        micros = (negative ? 0 - Number(digits) : Number(digits)) * 1000;
        break;
      default:
        micros = (negative ? 0 - Number(digits) : Number(digits)) * 1_000_000;
    }
    // One correctly rounded division: exact to the microsecond while |micros| < 2^53 (until 2255).
    return micros / 1_000_000;
  }
}

/**
 * body[start, stop) === body[otherStart, otherStart + length): compared within the body, which is
 * flat, rather than against a slice of it (slower to read, as is startsWith with a position).
 */
function sameText(body: string, start: number, stop: number, otherStart: number, length: number): boolean {
  if (length !== stop - start) return false;
  for (let k = 0; k < length; k++) if (body.charCodeAt(otherStart + k) !== body.charCodeAt(start + k)) return false;
  return true;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function allZeros(digits: string, from: number): boolean {
  for (let i = from; i < digits.length; i++) if (digits.charCodeAt(i) !== ZERO) return false;
  return true;
}

/** An own property even for `__proto__`, which plain assignment would swallow. */
function setTag(tags: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') Object.defineProperty(tags, key, { value, enumerable: true, writable: true, configurable: true });
  else tags[key] = value;
}

function unescapeName(body: string, start: number, stop: number, escapeEquals: boolean): string {
  let out = '';
  let from = start;
  for (let i = start; i < stop; i++) {
    if (body.charCodeAt(i) !== BACKSLASH || i + 1 >= stop) continue;
    const next = body.charCodeAt(i + 1);
    if (next === COMMA || next === SPACE || (escapeEquals && next === EQUALS)) {
      out += body.slice(from, i);
      from = i + 1;
      i++;
    }
  }
  return out + body.slice(from, stop);
}

function unescapeString(body: string, start: number, stop: number): string {
  let out = '';
  let from = start;
  for (let i = start; i < stop; i++) {
    if (body.charCodeAt(i) !== BACKSLASH || i + 1 >= stop) continue;
    const next = body.charCodeAt(i + 1);
    if (next === QUOTE || next === BACKSLASH) {
      out += body.slice(from, i);
      from = i + 1;
      i++;
    }
  }
  return out + body.slice(from, stop);
}

/** Parses a line protocol body; never throws. See the comment at the top of this file. */
export function parseLineProtocol(body: string, options: LineProtocolOptions): ParsedLines {
  const points: IncomingPoint[] = [];
  const pointLines: number[] = [];
  const errors: LineError[] = [];
  let lines = 0;
  if (typeof body !== 'string') return { points, errors: [{ line: 1, message: 'the body must be text' }], lines: 0, pointLines };
  if (!Object.prototype.hasOwnProperty.call(TIME_BOUND, options.precision)) {
    // A programming error, not bad input: the caller validates the precision query parameter.
    throw new TypeError(`unknown precision ${String(options.precision)}: expected ns, us, ms or s`);
  }
  // One native pass over the body; per-line checks only when something unstorable is present.
  const checkStorable = body.indexOf('\u0000') !== -1 || (SURROGATE.test(body) && UNSTORABLE.test(body));
  const scanner = new Scanner(body, options, points);
  const length = body.length;
  let lineNumber = 0;
  let start = 0;
  while (start <= length) {
    lineNumber++;
    let newline = body.indexOf('\n', start);
    if (newline === -1) newline = length;
    let end = newline;
    if (end > start && body.charCodeAt(end - 1) === CR) end--;
    let first = start;
    while (first < end) {
      const c = body.charCodeAt(first);
      if (c !== SPACE && c !== TAB) break;
      first++;
    }
    if (first < end && body.charCodeAt(first) !== HASH) {
      lines++;
      const mark = points.length;
      try {
        if (checkStorable && UNSTORABLE.test(body.slice(first, end))) {
          throw new LineSyntaxError(unstorableMessage(body, start, end));
        }
        scanner.parseLine(start, first, end);
        for (let i = mark; i < points.length; i++) pointLines.push(lineNumber);
      } catch (error) {
        points.length = mark;
        const message = error instanceof LineSyntaxError ? error.message : `internal parser error: ${String(error)}`;
        errors.push({ line: lineNumber, message });
      }
    }
    start = newline + 1;
  }
  return { points, errors, lines, pointLines };
}

function unstorableMessage(body: string, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    const c = body.charCodeAt(i);
    if (c === 0) return `column ${i - start + 1}: NUL (\\u0000) characters cannot be stored`;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
      const next = body.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) return `column ${i - start + 1}: the text must be valid Unicode (a lone surrogate was found)`;
  }
  return 'the text must be valid Unicode';
}
