import { describe, expect, it } from '@jest/globals';
import { encodeFeedMessage, type FeedPart, splitFeedMessage } from './alert-feed-message.js';
import { TelemetryDecodeError } from './telemetry-batch.js';

const parts: FeedPart[] = [
  { data: Buffer.from([0, 0x50, 0x58, 1, 9, 8, 7]), encoding: 'plexus-batch-1' },
  { data: Buffer.from('{"org_id":"a"}'), encoding: undefined },
  { data: Buffer.alloc(0), encoding: 'gzip' },
  { data: Buffer.alloc(70_000, 7), encoding: 'plexus-batch-1' },
];

describe('feed messages (several telemetry messages of one org)', () => {
  it('carries each part’s bytes and encoding unchanged, in order', () => {
    const split = splitFeedMessage(encodeFeedMessage(parts));
    expect(split.map((part) => [Buffer.from(part.data).toString('hex'), part.encoding])).toEqual(
      parts.map((part) => [Buffer.from(part.data).toString('hex'), part.encoding]),
    );
    expect(splitFeedMessage(encodeFeedMessage([]))).toEqual([]);
  });

  it('refuses every cut of a message, lying counts and lengths, bad encodings and trailing bytes', () => {
    const whole = encodeFeedMessage(parts.slice(0, 3));
    for (let length = 0; length < whole.length; length++) {
      expect(() => splitFeedMessage(whole.subarray(0, length))).toThrow(TelemetryDecodeError);
    }
    const patched = (at: number, write: (b: Buffer) => void) => {
      const copy = Buffer.from(whole);
      write(copy.subarray(at));
      return copy;
    };
    const hostile = [
      patched(4, (b) => b.writeUInt32LE(0xffffffff)), // part count
      patched(4, (b) => b.writeUInt32LE(4)), // one part more than there is
      patched(8, (b) => b.writeUInt8(200)), // encoding length past the end
      patched(9, (b) => b.write('PLEXUS', 'latin1')), // an encoding with capitals
      patched(9, (b) => b.writeUInt8(0)), // NUL in an encoding
      patched(8 + 1 + 14, (b) => b.writeUInt32LE(0x7fffffff)), // data length past the end
      Buffer.concat([whole, Buffer.from([1])]),
      Buffer.from('not a feed message at all'),
    ];
    for (const message of hostile) expect(() => splitFeedMessage(message)).toThrow(TelemetryDecodeError);
  });

  it('refuses to write a part whose encoding a feed message cannot carry', () => {
    expect(() => encodeFeedMessage([{ data: Buffer.alloc(1), encoding: 'x'.repeat(40) }])).toThrow(/not an encoding/);
    expect(() => encodeFeedMessage([{ data: Buffer.alloc(1), encoding: 'a\u0000' }])).toThrow(/not an encoding/);
  });
});
