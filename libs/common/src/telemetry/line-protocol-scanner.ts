import type { IncomingPoint } from '../messages/telemetry.js';
import type { LineProtocolOptions } from './line-protocol.js';
import { describeChar, excerpt, fail } from './line-protocol-errors.js';
import { type Cursor, readFieldValue, readTimestamp } from './line-protocol-values.js';

/*
 * The line protocol scanner: one line at a time, its measurement and tags (a series, cached per
 * body) and its field keys, into points; line-protocol-values.ts reads the field values and the
 * timestamp. See line-protocol.ts for the syntax and the behaviour chosen where InfluxDB leaves room.
 */

// Character codes, declared in each file that compares with them: V8 folds a module's own
// constants into the compiled code, not imported ones (the bench lost 10-15 % with imports).
const SPACE = 32;
const COMMA = 44;
const EQUALS = 61;
const BACKSLASH = 92;

/** Series (measurement and tags) and metric names remembered per body: bounded, as bodies may be hostile. */
const SERIES_CACHE_SIZE = 4096;
const METRIC_CACHE_SIZE = 256;
/** Field keys per line checked by a linear scan before a Map takes over (keeps hostile lines linear). */
const LINEAR_DUPLICATE_CHECK = 16;

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

export class Scanner implements Cursor {
  /** Where reading is: public as the Cursor that the value readers advance. */
  pos = 0;
  private readonly seriesCache = new Map<number, Series>();
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
    if (measurement.length === 0) fail(measurementStart, `expected a measurement name, found ${describeChar(this.charAt(this.pos))}`);
    if (this.pos >= end) fail(this.pos, `expected a space and fields after measurement ${excerpt(measurement)}, found the end of the line`);
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
      if (key.length === 0) fail(keyStart, `expected a tag key after ',', found ${describeChar(this.charAt(this.pos))}`);
      if (this.charAt(this.pos) !== EQUALS)
        fail(this.pos, `expected '=' after tag key ${excerpt(key)}, found ${describeChar(this.charAt(this.pos))}`);
      this.pos++;
      const valueStart = this.pos;
      const value = this.readName(true, true);
      if (value.length === 0)
        fail(valueStart, `tag ${excerpt(key)} has an empty value (omit the tag instead), found ${describeChar(this.charAt(this.pos))}`);
      const after = this.charAt(this.pos);
      if (after === EQUALS) fail(this.pos, `unescaped '=' in the value of tag ${excerpt(key)} (write \\=)`);
      if (Number.isNaN(after)) fail(this.pos, `expected a space and fields after the tags, found the end of the line`);
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

    if (this.charAt(this.pos) !== SPACE) fail(this.pos, `expected a space before the fields, found ${describeChar(this.charAt(this.pos))}`);
    return { textStart, textLength: textEnd - textStart, measurement, tags, sourceId, prefix: `${measurement}.`, metrics: new Map() };
  }

  /** Parses body[first, end), a line from its first non-blank character. */
  parseLine(first: number, end: number): void {
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
    if (this.pos >= end) fail(this.pos, 'expected fields (key=value), found the end of the line; a line needs at least one field');

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
      if (key.length === 0) fail(keyStart, `expected a field key, found ${describeChar(this.charAt(this.pos))}`);
      if (this.charAt(this.pos) !== EQUALS)
        fail(this.pos, `expected '=' after field key ${excerpt(key)}, found ${describeChar(this.charAt(this.pos))}`);
      this.pos++;
      const value = readFieldValue(body, this, end, key);
      if (metric === undefined) {
        metric = key === 'value' ? measurement : series.prefix + key;
        if (plainKey && series.metrics.size < METRIC_CACHE_SIZE && !series.metrics.has(keyHash))
          series.metrics.set(keyHash, { key, keyStart, metric });
      }
      this.addField(metric, value);
      const next = this.charAt(this.pos);
      if (next === COMMA) {
        this.pos++;
        continue;
      }
      if (next === SPACE || Number.isNaN(next)) break;
      fail(this.pos, `expected ',' or a space after the value of field ${excerpt(key)}, found ${describeChar(next)}`);
    }

    // Optional timestamp, surrounded by optional spaces.
    while (this.pos < end && body.charCodeAt(this.pos) === SPACE) this.pos++;
    let timestamp: number | undefined;
    if (this.pos < end) {
      timestamp = readTimestamp(body, this, end, options.precision);
      while (this.pos < end && body.charCodeAt(this.pos) === SPACE) this.pos++;
      if (this.pos < end)
        fail(this.pos, `unexpected text after the timestamp: ${excerpt(body.slice(this.pos, Math.min(end, this.pos + 40)))}`);
    }

    const sessionId = options.sessionId;
    const points = this.points;
    const fieldCount = this.fieldCount;
    for (let f = 0; f < fieldCount; f++) {
      // Points of one series share their tags object: downstream reads it, never changes it.
      // Object literals of fixed shapes: faster to build than adding properties one by one.
      let point: IncomingPoint;
      if (tags !== undefined) {
        point =
          timestamp !== undefined
            ? { metric: metrics[f], value: values[f], source_id: sourceId, tags, timestamp }
            : { metric: metrics[f], value: values[f], source_id: sourceId, tags };
      } else {
        point =
          timestamp !== undefined
            ? { metric: metrics[f], value: values[f], source_id: sourceId, timestamp }
            : { metric: metrics[f], value: values[f], source_id: sourceId };
      }
      if (sessionId !== undefined) point.session_id = sessionId;
      points.push(point);
    }
  }

  private duplicateTag(at: number, key: string): never {
    fail(at, `tag key ${excerpt(key)} appears twice in the line`);
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
