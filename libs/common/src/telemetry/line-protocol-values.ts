import type { Precision } from './line-protocol.js';
import { describeChar, excerpt, fail } from './line-protocol-errors.js';

/*
 * The values of a line: field values (numbers, quoted strings, booleans) and the timestamp, each
 * read from where the scanner is (the Cursor) and leaving it after the value. The common numbers
 * (plain decimals, timestamps whose microseconds fit a double) are read in one pass without
 * Number(); the rest exactly from their digits: the int64/uint64 range checks, floats, the exact
 * scaling of a timestamp to microseconds. Invalid text throws a LineSyntaxError (see fail()).
 */

// Character codes, declared in each file that compares with them: V8 folds a module's own
// constants into the compiled code, not imported ones (the bench lost 10-15 % with imports).
const SPACE = 32;
const QUOTE = 34;
const PLUS = 43;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const UPPER_E = 69;
const BACKSLASH = 92;
const LOWER_E = 101;
const LOWER_I = 105;
const LOWER_U = 117;

/** Where a reader starts, and where it leaves the scanner once it has read a value. */
export interface Cursor {
  pos: number;
}

const INT64_MAX = '9223372036854775807';
const INT64_MIN_MAGNITUDE = '9223372036854775808';
const UINT64_MAX = '18446744073709551615';
/** InfluxDB's time range, ±9223372036854775806 ns, as the largest magnitude in each precision. */
export const TIME_BOUND: Record<Precision, string> = {
  ns: '9223372036854775806',
  us: '9223372036854775',
  ms: '9223372036854',
  s: '9223372036',
};

export function readFieldValue(body: string, cursor: Cursor, end: number, key: string): number | string | boolean {
  const start = cursor.pos;
  if (start >= end) fail(start, `expected a value for field ${excerpt(key)}, found the end of the line`);
  const first = body.charCodeAt(start);
  if (first === QUOTE) return readString(body, cursor, end, key);
  const numeric = first === MINUS || first === DOT || (first >= ZERO && first <= NINE);
  if (numeric) {
    const plain = readPlainNumber(body, cursor, end);
    if (plain === plain) return plain; // not NaN: the fast path decided
  }
  // Unquoted values end at ',' or ' ' (or the end of the line).
  let i = start;
  while (i < end) {
    const c = body.charCodeAt(i);
    if (c === COMMA || c === SPACE) break;
    i++;
  }
  cursor.pos = i;
  if (i === start) fail(start, `expected a value for field ${excerpt(key)}, found ${describeChar(first)}`);
  if (numeric) return readNumber(body, start, i, key);
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
  fail(
    start,
    `the value of field ${excerpt(key)} must be a number (1.5, 3i, 3u), a "quoted string" or a boolean (t, true, f, false…), found ${excerpt(token)}`,
  );
}

/** A quoted string: `\"` and `\\` are escapes, any other backslash is literal; closed on this line. */
function readString(body: string, cursor: Cursor, end: number, key: string): string {
  const open = cursor.pos;
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
    fail(
      open,
      `the string value of field ${excerpt(key)} is not closed on this line (a '"' inside it is written \\", and a newline cannot appear inside a string)`,
    );
  }
  cursor.pos = i + 1;
  return escaped ? unescapeString(body, open + 1, i) : body.slice(open + 1, i);
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

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * The common numbers without Number(), at cursor.pos: -?digits[.digits] with at most 15 digits, or
 * such an integer with `i`/`u`, followed by ',', a space or the end of the line. The mantissa and
 * 10^k are exact doubles, so mantissa / 10^k is correctly rounded, the same double Number() gives;
 * cursor.pos is left after the value. NaN, cursor unmoved: anything else, left to readNumber().
 */
export function readPlainNumber(body: string, cursor: Cursor, end: number): number {
  let i = cursor.pos;
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
    cursor.pos = i;
    return negative ? -mantissa : mantissa;
  }
  if (c !== COMMA && c !== SPACE) return NaN;
  cursor.pos = i;
  const fraction = dot < 0 ? 0 : i - dot - 1;
  const value = fraction === 0 ? mantissa : mantissa / POW10[fraction];
  return negative ? -value : value;
}

/** A float, an integer (`i`) or an unsigned integer (`u`) in body[start, stop), the value of field `key`. */
export function readNumber(body: string, start: number, stop: number, key: string): number {
  const last = body.charCodeAt(stop - 1);
  const negative = body.charCodeAt(start) === MINUS;
  if (last === LOWER_I || last === LOWER_U) {
    let i = negative ? start + 1 : start;
    if (i >= stop - 1) numberError(body, start, stop, key, 'is not a valid integer');
    for (; i < stop - 1; i++) {
      const c = body.charCodeAt(i);
      if (c < ZERO || c > NINE)
        numberError(
          body,
          start,
          stop,
          key,
          last === LOWER_I ? 'is not a valid integer (digits then i)' : 'is not a valid unsigned integer (digits then u)',
        );
    }
    if (last === LOWER_U && negative) numberError(body, start, stop, key, 'is an unsigned integer (u) and cannot be negative');
    const digits = stripLeadingZeros(body.slice(negative ? start + 1 : start, stop - 1));
    const bound = last === LOWER_U ? UINT64_MAX : negative ? INT64_MIN_MAGNITUDE : INT64_MAX;
    if (digitsGreater(digits, bound)) {
      numberError(
        body,
        start,
        stop,
        key,
        last === LOWER_U ? 'is out of range for an unsigned 64-bit integer' : 'is out of range for a signed 64-bit integer',
      );
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
  if (mantissaDigits === 0) numberError(body, start, stop, key, 'is not a valid number');
  if (i < stop) {
    const c = body.charCodeAt(i);
    if (c !== LOWER_E && c !== UPPER_E) numberError(body, start, stop, key, 'is not a valid number');
    i++;
    if (i < stop && (body.charCodeAt(i) === PLUS || body.charCodeAt(i) === MINUS)) i++;
    const exponentStart = i;
    while (i < stop && isDigit(body.charCodeAt(i))) i++;
    if (i === exponentStart || i < stop) numberError(body, start, stop, key, 'is not a valid number');
  }
  const value = Number(body.slice(start, stop));
  if (!Number.isFinite(value)) numberError(body, start, stop, key, 'is out of range for a 64-bit float');
  return value;
}

function numberError(body: string, start: number, stop: number, key: string, why: string): never {
  fail(start, `the value of field ${excerpt(key)} ${why}, found ${excerpt(body.slice(start, stop))}`);
}

/**
 * The timestamp at cursor.pos, an integer in units of `precision` up to a space or the end of the
 * line, as Unix seconds with a microsecond fraction; cursor.pos is left after it. Exact integer
 * arithmetic on the digit string: a 19-digit nanosecond count does not fit a double. Nanoseconds
 * are truncated toward negative infinity to the microsecond (-1500 ns is -2 µs), as a floor keeps
 * every instant inside its microsecond. The result is always below 1e11 seconds (InfluxDB's range
 * ends in 2262), so it is never read as milliseconds by pointTimeMicros.
 */
export function readTimestamp(body: string, cursor: Cursor, end: number, precision: Precision): number {
  const start = cursor.pos;
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
  if (
    (d === end || body.charCodeAt(d) === SPACE) &&
    head < 2 ** 53 &&
    (precision === 'ns' ? length > 3 && length <= 19 : length > 0 && length <= 15)
  ) {
    cursor.pos = d;
    if (precision === 'ns' || precision === 'us') return head / 1_000_000;
    if (precision === 'ms' && head <= 9_223_372_036_854) return (head * 1000) / 1_000_000;
    if (precision === 's' && head <= 9_223_372_036) return (head * 1_000_000) / 1_000_000;
  }
  let i = d;
  while (i < end && body.charCodeAt(i) !== SPACE) i++;
  cursor.pos = i;
  return exactTimestamp(body, start, i, precision);
}

/** The timestamp in body[start, stop) by exact arithmetic on its digits (see readTimestamp). */
function exactTimestamp(body: string, start: number, stop: number, precision: Precision): number {
  const negative = body.charCodeAt(start) === MINUS;
  const digitsStart = negative ? start + 1 : start;
  if (digitsStart >= stop) timestampError(body, start, stop, 'expected a timestamp (an integer)');
  for (let d = digitsStart; d < stop; d++) {
    if (!isDigit(body.charCodeAt(d)))
      timestampError(body, start, stop, "expected a timestamp (an integer, in the request's precision) or the end of the line");
  }
  const digits = stripLeadingZeros(body.slice(digitsStart, stop));
  if (digitsGreater(digits, TIME_BOUND[precision])) {
    timestampError(body, start, stop, `timestamp is out of range (InfluxDB's range is ±9223372036854775806 ns, here in ${precision})`);
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

function timestampError(body: string, start: number, stop: number, why: string): never {
  fail(start, `${why}, found ${excerpt(body.slice(start, stop))}`);
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

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function allZeros(digits: string, from: number): boolean {
  for (let i = from; i < digits.length; i++) if (digits.charCodeAt(i) !== ZERO) return false;
  return true;
}
