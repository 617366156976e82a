import { describe, expect, it } from '@jest/globals';
import { TokenBucket } from './token-bucket.js';

/** Messages `bucket` lets through of `count` taken at `at`, with the loop `lateMs` late. */
function taken(bucket: TokenBucket, count: number, at: number, lateMs = 0): number {
  let passed = 0;
  for (let i = 0; i < count; i++) if (bucket.take(at, lateMs)) passed++;
  return passed;
}

describe('TokenBucket on arrival time', () => {
  it('lets a device inside its rate through, message by message', () => {
    const bucket = new TokenBucket(1000, 2000, 0);
    let passed = 0;
    for (let ms = 1; ms <= 10_000; ms++) passed += taken(bucket, 1, ms);
    expect(passed).toBe(10_000);
  });

  it('limits a device over its rate: burst, then the rate', () => {
    const bucket = new TokenBucket(1000, 2000, 0);
    expect(taken(bucket, 5000, 0)).toBe(2000);
    expect(taken(bucket, 5000, 1000)).toBe(1000);
  });

  it('credits the time the server ran late: a backlog read at once after a stall is not limited', () => {
    // 625 messages a second for 5 s, all read when a 5 s stall ends (the case).
    const stalled = new TokenBucket(1000, 2000, 0);
    expect(taken(stalled, 3125, 5000, 5000)).toBe(3125);
    // Without the credit the same backlog is cut at the burst: the unfairness this fixes.
    const uncredited = new TokenBucket(1000, 2000, 0);
    expect(taken(uncredited, 3125, 5000, 0)).toBe(2000);
  });

  it('still limits a device over its rate during a stall', () => {
    // 3000 a second for 5 s against 1000/s, burst 2000: at most 2000 + 5000 pass.
    const bucket = new TokenBucket(1000, 2000, 0);
    expect(taken(bucket, 15_000, 5000, 5000)).toBe(7000);
  });

  it('gives back no more than the burst once the server is on time again', () => {
    const bucket = new TokenBucket(1000, 2000, 0);
    expect(taken(bucket, 1, 5000, 5000)).toBe(1); // 7000 saved during the stall
    expect(taken(bucket, 5000, 5001, 0)).toBe(2000); // the extra goes once the loop is on time
  });

  it('ignores an arrival time that goes backwards', () => {
    const bucket = new TokenBucket(10, 2, 1000);
    expect(taken(bucket, 3, 500)).toBe(2);
    expect(taken(bucket, 1, 1100)).toBe(1);
  });
});
