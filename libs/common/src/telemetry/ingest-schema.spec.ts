import { describe, expect, it } from '@jest/globals';
import { INGEST_LIMITS, pointTimeMicros, validateIngestBody } from './ingest-schema.js';

function point(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { metric: 'temp', value: 21.5, source_id: 'rig-1', ...overrides };
}

/** The detail of a rejected body; fails the test if the body was accepted. */
function rejection(body: unknown): { detail: { index?: number; field: string; message: string }; tooLarge: boolean } {
  const result = validateIngestBody(body);
  if (result.ok) throw new Error(`expected a rejection, got ok for ${JSON.stringify(body).slice(0, 200)}`);
  return { detail: result.detail, tooLarge: result.tooLarge };
}

describe('validateIngestBody', () => {
  it.each([
    ['number', 42],
    ['string', 'open'],
    ['boolean', false],
    ['object', { x: 1, nested: { y: [1, 2] } }],
    ['array', [1, 'two', { three: 3 }]],
  ])('accepts a %s value and returns the points', (_type, value) => {
    const body = { points: [point({ value })] };
    const result = validateIngestBody(body);
    expect(result).toEqual({ ok: true, points: body.points });
  });

  it('accepts a point with every optional field set', () => {
    const full = point({ timestamp: 1_699_900_000.5, tags: { room: 'a', floor: 2, lit: true }, session_id: 'run-7' });
    expect(validateIngestBody({ points: [full] }).ok).toBe(true);
  });

  it('rejects a missing points array and an empty one, naming the field without an index', () => {
    expect(rejection({})).toEqual({ tooLarge: false, detail: { field: 'points', message: 'points is required' } });
    expect(rejection({ points: [] })).toEqual({
      tooLarge: false,
      detail: { field: 'points', message: 'points must hold at least one point' },
    });
  });

  it('names the body when it is not an object', () => {
    expect(rejection(null).detail).toEqual({ field: 'body', message: 'body must be object' });
  });

  it('names the index and field of a missing metric', () => {
    const { detail, tooLarge } = rejection({ points: [point(), point({ metric: undefined })] });
    expect(tooLarge).toBe(false);
    expect(detail).toEqual({ index: 1, field: 'metric', message: 'points[1].metric is required' });
  });

  it('accepts a metric of exactly 256 chars and rejects 257', () => {
    expect(validateIngestBody({ points: [point({ metric: 'm'.repeat(256) })] }).ok).toBe(true);
    const { detail } = rejection({ points: [point({ metric: 'm'.repeat(257) })] });
    expect(detail).toMatchObject({ index: 0, field: 'metric' });
  });

  it.each(['a\tb', 'a\nb', 'bell\u0007', 'del\u007f'])('rejects control characters in metric %j', (metric) => {
    expect(rejection({ points: [point({ metric })] }).detail).toEqual({
      index: 0,
      field: 'metric',
      message: 'points[0].metric must hold printable characters only',
    });
  });

  it('rejects a null value with a message saying so', () => {
    expect(rejection({ points: [point(), point(), point({ value: null })] }).detail).toEqual({
      index: 2,
      field: 'value',
      message: 'points[2].value must be a number, string, boolean, object or array (not null)',
    });
  });

  it('rejects an object value larger than 64 KiB as JSON, and accepts one at the limit', () => {
    // {"a":"…"} is 8 bytes of framing around the string.
    const atLimit = { a: 'x'.repeat(INGEST_LIMITS.maxStructuredValueBytes - 8) };
    expect(Buffer.byteLength(JSON.stringify(atLimit))).toBe(64 * 1024);
    expect(validateIngestBody({ points: [point({ value: atLimit })] }).ok).toBe(true);

    const over = { a: 'x'.repeat(INGEST_LIMITS.maxStructuredValueBytes - 7) };
    expect(rejection({ points: [point(), point({ value: over })] })).toEqual({
      tooLarge: false,
      detail: { index: 1, field: 'value', message: 'points[1].value is larger than 64 KiB as JSON' },
    });
  });

  it('counts the 64 KiB of a structured value in UTF-8 bytes, not characters', () => {
    // 30,000 × "é" is 30,000 characters but 60,000 bytes; twice that is over the limit.
    const value = ['é'.repeat(30_000), 'é'.repeat(30_000)];
    expect(rejection({ points: [point({ value })] }).detail).toMatchObject({ index: 0, field: 'value' });
  });

  it('rejects a NUL character in a string value', () => {
    expect(rejection({ points: [point({ value: 'a\u0000b' })] }).detail).toEqual({
      index: 0,
      field: 'value',
      message: 'points[0].value must not contain NUL (\\u0000) characters',
    });
  });

  it.each([
    ['an object string', { note: 'x\u0000y' }],
    ['an array element', ['ok', '\u0000']],
    ['an object key', { 'k\u0000': 1 }],
    ['a string after an escaped backslash', { note: '\\\u0000' }],
  ])('rejects a NUL character inside %s', (_where, value) => {
    expect(rejection({ points: [point(), point({ value })] }).detail).toEqual({
      index: 1,
      field: 'value',
      message: 'points[1].value must not contain NUL (\\u0000) characters',
    });
  });

  describe('lone surrogates (PostgreSQL jsonb refuses them)', () => {
    const NOT_UNICODE = 'must be valid Unicode (no lone surrogates)';

    it.each([
      ['value', point({ value: '\ud800' }), 'value'],
      ['value (low half)', point({ value: 'x\udfffy' }), 'value'],
      ['metric', point({ metric: 'temp\udc00' }), 'metric'],
      ['session_id', point({ session_id: 's\ud83d' }), 'session_id'],
      ['a tag value', point({ tags: { k: '\ud800' } }), 'tags.k'],
    ])('in %s: names the point and field', (_where, bad, field) => {
      expect(rejection({ points: [point(), point(), point(), bad] }).detail).toEqual({
        index: 3,
        field,
        message: `points[3].${field} ${NOT_UNICODE}`,
      });
    });

    it('in a tag key', () => {
      expect(rejection({ points: [point({ tags: { ['k\ud800']: 1 } })] }).detail).toEqual({
        index: 0,
        field: 'tags.k\ud800',
        message: `points[0].tags.k\ud800 ${NOT_UNICODE}`,
      });
    });

    it.each([
      ['an object string', { note: 'x\ud800y' }],
      ['an array element', ['ok', '\udbff']],
      ['an object key', { ['k\udc00']: 1 }],
      ['a string after an escaped backslash', { note: '\\\ud800' }],
    ])('inside %s value', (_where, value) => {
      expect(rejection({ points: [point(), point({ value })] }).detail).toEqual({
        index: 1,
        field: 'value',
        message: `points[1].value ${NOT_UNICODE}`,
      });
    });

    it('accepts surrogate pairs (emoji) and the literal escape text', () => {
      const emoji = 'temp \u{1F600}';
      const body = {
        points: [
          point({ metric: emoji, value: emoji, session_id: emoji, tags: { [emoji]: emoji } }),
          point({ value: { [emoji]: [emoji] } }),
        ],
      };
      expect(validateIngestBody(body).ok).toBe(true);
      expect(validateIngestBody({ points: [point({ value: { note: '\\ud800' } })] }).ok).toBe(true);
    });
  });

  it('accepts the literal six-character text \\u0000 in strings and inside objects', () => {
    const literal = '\\u0000';
    expect(literal).toHaveLength(6);
    expect(validateIngestBody({ points: [point({ value: literal })] }).ok).toBe(true);
    expect(validateIngestBody({ points: [point({ value: { note: `x${literal}` } })] }).ok).toBe(true);
    expect(validateIngestBody({ points: [point({ value: [`\\${literal}`] })] }).ok).toBe(true);
  });

  it('names the tag key when a tag value is a nested object', () => {
    const { detail } = rejection({ points: [point(), point({ tags: { room: { floor: 2 } } })] });
    expect(detail).toEqual({ index: 1, field: 'tags.room', message: 'points[1].tags.room must be string or number or boolean' });
  });

  it('rejects a tag value longer than 1024 chars under its key', () => {
    expect(rejection({ points: [point({ tags: { room: 'r'.repeat(1025) } })] }).detail).toMatchObject({ index: 0, field: 'tags.room' });
  });

  it('accepts 32 tags and rejects 33', () => {
    const tags = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, i]));
    expect(validateIngestBody({ points: [point({ tags: tags(32) })] }).ok).toBe(true);
    expect(rejection({ points: [point({ tags: tags(33) })] }).detail).toMatchObject({ index: 0, field: 'tags' });
  });

  it('rejects empty and over-long tag keys, naming the key', () => {
    expect(rejection({ points: [point({ tags: { '': 'x' } })] }).detail).toMatchObject({ index: 0, field: 'tags.' });
    const long = 'k'.repeat(129);
    expect(rejection({ points: [point({ tags: { [long]: 'x' } })] }).detail).toMatchObject({ index: 0, field: `tags.${long}` });
  });

  it.each([
    ['a leading dash', '-rig'],
    ['an empty string', ''],
    ['a space', 'rig 1'],
    ['129 chars', 'x'.repeat(129)],
    ['a slash', 'rig/1'],
  ])('rejects a source_id with %s', (_what, sourceId) => {
    const { detail } = rejection({ points: [point({ source_id: sourceId })] });
    expect(detail).toMatchObject({ index: 0, field: 'source_id' });
    expect(detail.message).toMatch(/^points\[0\]\.source_id must start with a letter or digit/);
  });

  it('accepts a source_id of 128 allowed chars', () => {
    expect(validateIngestBody({ points: [point({ source_id: `a${'b._:-'.repeat(25)}cd` })] }).ok).toBe(true);
  });

  it('rejects a source_id that is not a string and a missing one', () => {
    expect(rejection({ points: [point({ source_id: 7 })] }).detail).toEqual({
      index: 0,
      field: 'source_id',
      message: 'points[0].source_id must be string',
    });
    expect(rejection({ points: [point({ source_id: undefined })] }).detail).toEqual({
      index: 0,
      field: 'source_id',
      message: 'points[0].source_id is required',
    });
  });

  it('accepts a session_id of 128 chars and rejects 129 or an empty one', () => {
    expect(validateIngestBody({ points: [point({ session_id: 's'.repeat(128) })] }).ok).toBe(true);
    expect(rejection({ points: [point({ session_id: 's'.repeat(129) })] }).detail).toMatchObject({ index: 0, field: 'session_id' });
    expect(rejection({ points: [point({ session_id: '' })] }).detail).toMatchObject({ index: 0, field: 'session_id' });
  });

  it('rejects a negative timestamp', () => {
    expect(rejection({ points: [point({ timestamp: -1 })] }).detail).toEqual({
      index: 0,
      field: 'timestamp',
      message: 'points[0].timestamp must not be negative',
    });
  });

  it('accepts the largest timestamp and rejects one past it', () => {
    expect(validateIngestBody({ points: [point({ timestamp: INGEST_LIMITS.maxTimestampMs })] }).ok).toBe(true);
    expect(rejection({ points: [point({ timestamp: INGEST_LIMITS.maxTimestampMs + 1 })] }).detail).toEqual({
      index: 0,
      field: 'timestamp',
      message: 'points[0].timestamp must be Unix seconds or milliseconds before the year 10000',
    });
  });

  it('rejects a timestamp given as a string', () => {
    expect(rejection({ points: [point({ timestamp: '1699900000' })] }).detail).toMatchObject({ index: 0, field: 'timestamp' });
  });

  it('accepts exactly 10,000 points', () => {
    const points = Array.from({ length: INGEST_LIMITS.maxPoints }, () => point());
    expect(validateIngestBody({ points }).ok).toBe(true);
  });

  it('flags more than 10,000 points as too large, even when a point is also invalid', () => {
    const points = Array.from({ length: INGEST_LIMITS.maxPoints + 1 }, () => point());
    expect(rejection({ points })).toEqual({
      tooLarge: true,
      detail: { field: 'points', message: 'points must hold at most 10000 points' },
    });
    points[0] = point({ metric: '' });
    expect(rejection({ points }).tooLarge).toBe(true);
  });

  it('does not flag other errors as too large', () => {
    expect(rejection({ points: [point({ value: 'x'.repeat(INGEST_LIMITS.maxStringValueLength + 1) })] }).tooLarge).toBe(false);
    expect(rejection({ points: 'many' }).tooLarge).toBe(false);
  });
});

describe('pointTimeMicros', () => {
  const receivedAtUs = 1_700_000_000_000_000;

  it('reads a float below 1e11 as Unix seconds', () => {
    expect(pointTimeMicros(1_699_900_000.123456, receivedAtUs)).toBe(1_699_900_000_123_456);
    expect(pointTimeMicros(0, receivedAtUs)).toBe(0);
    expect(pointTimeMicros(99_999_999_999, receivedAtUs)).toBe(99_999_999_999_000_000);
  });

  it('reads a number at or above 1e11 as milliseconds', () => {
    expect(pointTimeMicros(1e11, receivedAtUs)).toBe(1e14);
    expect(pointTimeMicros(1_699_900_000_123, receivedAtUs)).toBe(1_699_900_000_123_000);
    expect(pointTimeMicros(1_699_900_000_123.456, receivedAtUs)).toBe(1_699_900_000_123_456);
  });

  it('uses the received time when the timestamp is absent', () => {
    expect(pointTimeMicros(undefined, receivedAtUs)).toBe(receivedAtUs);
  });

  it('rounds to whole microseconds', () => {
    expect(pointTimeMicros(1.0000004, receivedAtUs)).toBe(1_000_000);
    expect(pointTimeMicros(1.0000006, receivedAtUs)).toBe(1_000_001);
    expect(pointTimeMicros(Number('1699900000123.4567'), receivedAtUs)).toBe(1_699_900_000_123_457);
    expect(Number.isInteger(pointTimeMicros(1_699_900_000.1234567, receivedAtUs))).toBe(true);
  });
});
