/** Parsing of the times and durations the query and session APIs accept. */

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * The times the API takes: years 0001 to 9999 (within what PostgreSQL's timestamptz holds and
 * what a bigint of microseconds carries), so an absurd time is a 400 naming the field, not a
 * database error halfway through an answer.
 */
export const MIN_TIME_US = -62_135_596_800_000_000; // 0001-01-01T00:00:00Z
// The end of 9999-12-31 (inclusive: microseconds this far out are beyond a double's precision anyway).
export const MAX_TIME_US = 253_402_300_800_000_000;

/**
 * ISO-8601 (date, or date and time; without an offset it is UTC; fractions to the microsecond)
 * or Unix seconds (a number ≥ 1e11 is milliseconds, as on ingest) → Unix microseconds.
 * Undefined when it is neither, or outside MIN_TIME_US..MAX_TIME_US.
 */
export function parseTimeParam(value: string): number | undefined {
  const us = parseTime(value);
  return us !== undefined && Number.isFinite(us) && us >= MIN_TIME_US && us <= MAX_TIME_US ? us : undefined;
}

function parseTime(value: string): number | undefined {
  const trimmed = value.trim();
  if (trimmed.length > 64) return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    const n = Number(trimmed);
    return Math.round(n >= 1e11 ? n * 1000 : n * 1e6);
  }
  const match = ISO_8601.exec(trimmed);
  if (!match) return undefined;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', zone = 'Z'] = match;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0–99 as 1900–1999.
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  date.setUTCHours(Number(hour), Number(minute), Number(second), 0);
  const ms = date.getTime();
  const check = new Date(ms);
  if (
    Number(year) < 1 ||
    check.getUTCMonth() !== Number(month) - 1 ||
    check.getUTCDate() !== Number(day) ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59
  ) {
    return undefined;
  }
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
  }
  const micros = Number(fraction.padEnd(6, '0').slice(0, 6));
  return (ms - offsetMinutes * 60_000) * 1000 + micros;
}

const UNIT_US: Record<string, number> = { ms: 1e3, s: 1e6, m: 60e6, h: 3600e6, d: 86400e6, w: 7 * 86400e6 };

/** The widest bucket a query may ask for: 100 years (36,525 days). */
export const MAX_DURATION_US = 36_525 * UNIT_US.d;

/** A bucket width like `500ms`, `1s`, `5m`, `1h`, `1d` → microseconds; undefined above MAX_DURATION_US. */
export function parseDuration(value: string): number | undefined {
  const match = /^(\d{1,20})(ms|s|m|h|d|w)$/.exec(value.trim());
  if (!match) return undefined;
  const us = Number(match[1]) * UNIT_US[match[2]];
  return us > 0 && us <= MAX_DURATION_US ? us : undefined;
}

/** Unix microseconds → ISO-8601 with all six fractional digits (PostgreSQL reads it exactly). */
export function isoFromMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  return `${new Date(ms).toISOString().slice(0, 23)}${String(us - ms * 1000).padStart(3, '0')}Z`;
}
