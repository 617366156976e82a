import { describe, expect, it } from '@jest/globals';
import { isoFromMicros, MAX_DURATION_US, MAX_TIME_US, MIN_TIME_US, parseDuration, parseTimeParam } from './time.js';

describe('parseTimeParam', () => {
  it('reads ISO-8601 in UTC', () => {
    expect(parseTimeParam('2023-11-13T18:26:40Z')).toBe(1_699_900_000_000_000);
    expect(parseTimeParam('2023-11-13T18:26:40.123Z')).toBe(1_699_900_000_123_000);
  });

  it("keeps microseconds of an ISO-8601 fraction, so the API's own times can be sent back", () => {
    expect(parseTimeParam('2023-11-13T18:26:40.123456Z')).toBe(1_699_900_000_123_456);
    expect(parseTimeParam(isoFromMicros(1_699_900_000_000_001))).toBe(1_699_900_000_000_001);
  });

  it('reads ISO-8601 without an offset, and a bare date, as UTC', () => {
    expect(parseTimeParam('2023-11-13T18:26:40')).toBe(1_699_900_000_000_000);
    expect(parseTimeParam('2023-11-13')).toBe(1_699_833_600_000_000);
  });

  it('reads ISO-8601 with an offset', () => {
    expect(parseTimeParam('2023-11-13T20:26:40+02:00')).toBe(1_699_900_000_000_000);
    expect(parseTimeParam('2023-11-13T13:26:40.5-05:00')).toBe(1_699_900_000_500_000);
  });

  it('reads Unix seconds, with or without a fraction', () => {
    expect(parseTimeParam('1699900000')).toBe(1_699_900_000_000_000);
    expect(parseTimeParam('1699900000.25')).toBe(1_699_900_000_250_000);
    expect(parseTimeParam('1699900000.123456')).toBe(1_699_900_000_123_456);
    expect(parseTimeParam('0')).toBe(0);
  });

  it('reads a number at or above 1e11 as milliseconds', () => {
    expect(parseTimeParam('100000000000')).toBe(1e14);
    expect(parseTimeParam('1699900000123')).toBe(1_699_900_000_123_000);
    expect(parseTimeParam('1699900000123.5')).toBe(1_699_900_000_123_500);
  });

  it('ignores surrounding whitespace', () => {
    expect(parseTimeParam(' 1699900000 ')).toBe(1_699_900_000_000_000);
    expect(parseTimeParam('\t2023-11-13T18:26:40Z\n')).toBe(1_699_900_000_000_000);
  });

  it.each([
    '',
    '   ',
    'yesterday',
    'not a time',
    '2023-13-45T00:00:00Z',
    '2023-11-13T25:00:00Z',
    '2023-02-30',
    'abc123',
    '1e12',
    '1.2.3',
    'March 7',
    'hello 2020',
    '1 2',
    '-5',
  ])('returns undefined for %j', (value) => {
    expect(parseTimeParam(value)).toBeUndefined();
  });
});

describe('parseTimeParam bounds (years 0001 to 9999)', () => {
  it.each(['99999999999999999999999', '10000-01-01', '253402300801000', '253402300800000000', '0000-01-01'])('refuses %j', (value) => {
    expect(parseTimeParam(value)).toBeUndefined();
  });

  it('takes the first and the last moment of the range, and years below 100 as written', () => {
    expect(parseTimeParam('0001-01-01T00:00:00Z')).toBe(MIN_TIME_US);
    expect(parseTimeParam('9999-12-31T23:59:59.999999Z')).toBe(MAX_TIME_US);
    expect(parseTimeParam('0050-06-01')).toBe(Date.UTC(2050, 5, 1) * 1000 - 2000 * 365.2425 * 86_400_000_000);
  });
});

describe('parseDuration bounds', () => {
  it('refuses a width above 100 years', () => {
    expect(parseDuration('999999999999h')).toBeUndefined();
    expect(parseDuration('36526d')).toBeUndefined();
    expect(parseDuration('36525d')).toBe(MAX_DURATION_US);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500_000],
    ['1s', 1_000_000],
    ['5m', 300_000_000],
    ['1h', 3_600_000_000],
    ['1d', 86_400_000_000],
    ['1w', 604_800_000_000],
    ['90s', 90_000_000],
    [' 15m ', 900_000_000],
  ])('reads %j as %d µs', (value, us) => {
    expect(parseDuration(value)).toBe(us);
  });

  it.each(['0s', '0ms', '1x', '', 's', '1', '-1s', '1.5s', '1 s', '1S', '1sec'])('returns undefined for %j', (value) => {
    expect(parseDuration(value)).toBeUndefined();
  });
});

describe('isoFromMicros', () => {
  it('writes all six fractional digits', () => {
    expect(isoFromMicros(1_699_900_000_123_456)).toBe('2023-11-13T18:26:40.123456Z');
  });

  it('pads the sub-millisecond digits and whole seconds', () => {
    expect(isoFromMicros(1_699_900_000_000_000)).toBe('2023-11-13T18:26:40.000000Z');
    expect(isoFromMicros(1_699_900_000_000_005)).toBe('2023-11-13T18:26:40.000005Z');
    expect(isoFromMicros(1_699_900_000_100_050)).toBe('2023-11-13T18:26:40.100050Z');
    expect(isoFromMicros(0)).toBe('1970-01-01T00:00:00.000000Z');
  });

  it('handles times before the epoch', () => {
    expect(isoFromMicros(-1)).toBe('1969-12-31T23:59:59.999999Z');
  });

  it('names the same instant parseTimeParam reads from Unix seconds', () => {
    const us = 1_699_900_000_654_321;
    const iso = isoFromMicros(us);
    expect(iso).toBe('2023-11-13T18:26:40.654321Z');
    expect(parseTimeParam('1699900000.654321')).toBe(us);
  });
});
