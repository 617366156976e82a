import { describe, expect, it } from '@jest/globals';
import { PointsCopyEncoder } from './copy-binary.js';

/** Reads the binary COPY payload back: what PostgreSQL will see. */
function decode(data: Buffer): Array<[number, bigint, number | null, string | null]> {
  expect(data.subarray(0, 11).toString('latin1')).toBe('PGCOPY\n\xff\r\n\0');
  let at = 19;
  const rows: Array<[number, bigint, number | null, string | null]> = [];
  for (;;) {
    const fields = data.readInt16BE(at);
    at += 2;
    if (fields === -1) break;
    expect(fields).toBe(4);
    expect(data.readInt32BE(at)).toBe(4);
    const series = data.readInt32BE(at + 4);
    expect(data.readInt32BE(at + 8)).toBe(8);
    const time = data.readBigInt64BE(at + 12);
    at += 20;
    const numLength = data.readInt32BE(at);
    const num = numLength === -1 ? null : data.readDoubleBE(at + 4);
    at += numLength === -1 ? 4 : 12;
    const jsonLength = data.readInt32BE(at);
    let json: string | null = null;
    if (jsonLength !== -1) {
      expect(data[at + 4]).toBe(1); // jsonb version
      json = data.subarray(at + 5, at + 4 + jsonLength).toString('utf8');
    }
    at += jsonLength === -1 ? 4 : 4 + jsonLength;
    rows.push([series, time, num, json]);
  }
  expect(at).toBe(data.length);
  return rows;
}

const PG_EPOCH_US = 946_684_800_000_000n;

describe('PointsCopyEncoder', () => {
  it('writes rows PostgreSQL reads as (int4, timestamptz in µs since 2000, float8, jsonb)', () => {
    const encoder = new PointsCopyEncoder(16); // grows as needed
    const times = [1_700_000_000_123_456, 0, -62_135_596_800_000_000, 946_684_800_000_000, 253_402_300_799_999_000];
    encoder.add(7, times[0], 21.5, null);
    encoder.add(2_147_483_647, times[1], null, '"héllo ✓"');
    encoder.add(1, times[2], -0, null);
    encoder.add(1, times[3], null, '{"a":[1,2]}');
    encoder.add(1, times[4], 1e308, null);
    expect(encoder.rows).toBe(5);
    expect(decode(encoder.finish())).toEqual([
      [7, BigInt(times[0]) - PG_EPOCH_US, 21.5, null],
      [2_147_483_647, -PG_EPOCH_US, null, '"héllo ✓"'],
      [1, BigInt(times[2]) - PG_EPOCH_US, -0, null],
      [1, 0n, null, '{"a":[1,2]}'],
      [1, BigInt(times[4]) - PG_EPOCH_US, 1e308, null],
    ]);
  });

  it('holds values larger than its first buffer', () => {
    const encoder = new PointsCopyEncoder(64);
    const big = JSON.stringify('x'.repeat(100_000));
    encoder.add(1, 0, null, big);
    expect(decode(encoder.finish())[0][3]).toBe(big);
  });
});

describe('PointsCopyEncoder.take', () => {
  it('hands over what is encoded so far; the pieces joined are the whole payload', () => {
    const whole = new PointsCopyEncoder(64);
    const streamed = new PointsCopyEncoder(64);
    const pieces: Buffer[] = [];
    for (let i = 0; i < 100; i++) {
      whole.add(i, 1_700_000_000_000_000 + i, i % 3 ? i / 2 : null, i % 3 ? null : `{"i":${i}}`);
      streamed.add(i, 1_700_000_000_000_000 + i, i % 3 ? i / 2 : null, i % 3 ? null : `{"i":${i}}`);
      if (streamed.size > 500) pieces.push(streamed.take());
    }
    pieces.push(streamed.finish());
    expect(pieces.length).toBeGreaterThan(2);
    expect(Buffer.concat(pieces)).toEqual(whole.finish());
  });
});
