import { describe, expect, it } from '@jest/globals';
import type { OnlineSource, PresenceReply } from '#common';
import { presenceNotice, presenceReplies } from './presence-replies.js';

function source(i: number, sensorName = 'imu'): OnlineSource {
  return {
    source_id: `rig-${i}`,
    platform: 'linux',
    sensors: [{ name: sensorName, description: 'x'.repeat(i % 50), metrics: ['accel_x'], sample_rate: 100, prefix: '', available: true }],
    cameras: [],
    connected_at: '2026-12-01T21:00:00.000Z',
  } as OnlineSource;
}

const parsed = (replies: string[]) => replies.flatMap((reply) => (JSON.parse(reply) as PresenceReply).sources);

describe('presence replies', () => {
  it('answer an instance with no sources with one empty, last piece', () => {
    expect(presenceReplies([], 'abc').map((reply) => JSON.parse(reply))).toEqual([{ sources: [], instance_id: 'abc', more: false }]);
  });

  it('announce the instance before the list, with more to come', () => {
    expect(JSON.parse(presenceNotice('abc'))).toEqual({ sources: [], instance_id: 'abc', more: true });
  });

  it('cut many sources into replies within the byte bound, every source once and in order', () => {
    const sources = Array.from({ length: 3000 }, (_, i) => source(i));
    const replies = presenceReplies(sources, 'abc', 16 * 1024);
    expect(replies.length).toBeGreaterThan(10);
    for (const reply of replies) expect(Buffer.byteLength(reply)).toBeLessThanOrEqual(16 * 1024);
    expect(parsed(replies)).toEqual(sources);
    // Every piece but the last says more follow, so the asker waits for the end of this instance's answer.
    expect(replies.map((reply) => (JSON.parse(reply) as PresenceReply).more)).toEqual([...replies.slice(1).map(() => true), false]);
  });

  it('count UTF-8 bytes, not characters', () => {
    const sources = Array.from({ length: 500 }, (_, i) => source(i, 'ü😀'.repeat(40)));
    const replies = presenceReplies(sources, 'abc', 8 * 1024);
    for (const reply of replies) expect(Buffer.byteLength(reply)).toBeLessThanOrEqual(8 * 1024);
    expect(parsed(replies)).toEqual(sources);
  });

  it('send a source larger than the bound by itself rather than lose it', () => {
    const sources = [source(1), source(2, 'big'.repeat(2000)), source(3)];
    const replies = presenceReplies(sources, 'abc', 1024);
    expect(replies).toHaveLength(3);
    expect(parsed(replies)).toEqual(sources);
  });
});
