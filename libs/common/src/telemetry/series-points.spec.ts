import { describe, expect, it } from '@jest/globals';
import type { IncomingPoint } from '../messages/telemetry.js';
import { canonicalTags, groupBySeries, pointCount, type SeriesPoints } from './series-points.js';

const RECEIVED_AT_US = 1_699_900_000_123_456;

/** A series as plain arrays, for comparing. */
function plain(series: SeriesPoints) {
  return { ...series, timesUs: Array.from(series.timesUs), nums: Array.from(series.nums) };
}

describe('groupBySeries', () => {
  it('groups points by source, metric, session and tags, in order of first appearance, each series in request order', () => {
    const points: IncomingPoint[] = [
      { metric: 'temp', value: 21.5, source_id: 'rig-1', timestamp: 1_699_900_000.654321, tags: { room: 'a' }, session_id: 'run-7' },
      { metric: 'state', value: 'open', source_id: 'rig-2', timestamp: 1_699_900_000_500 },
      { metric: 'temp', value: 22, source_id: 'rig-1', timestamp: 1_699_900_001, tags: { room: 'a' }, session_id: 'run-7' },
      { metric: 'temp', value: 23, source_id: 'rig-1', tags: { room: 'a' } },
    ];
    expect(groupBySeries(points, RECEIVED_AT_US).map(plain)).toEqual([
      {
        sourceId: 'rig-1',
        metric: 'temp',
        sessionId: 'run-7',
        tags: '{"room":"a"}',
        timesUs: [1_699_900_000_654_321, 1_699_900_001_000_000],
        nums: [21.5, 22],
        jsons: null,
      },
      { sourceId: 'rig-2', metric: 'state', sessionId: '', tags: '', timesUs: [1_699_900_000_500_000], nums: [NaN], jsons: ['"open"'] },
      { sourceId: 'rig-1', metric: 'temp', sessionId: '', tags: '{"room":"a"}', timesUs: [RECEIVED_AT_US], nums: [23], jsons: null },
    ]);
  });

  it('puts numbers in nums and every other value in jsons as JSON text, null where the value is a number', () => {
    const values = [0, -3.25, 1e21, 'text', true, false, { a: [1, 2] }, [1, 'x']];
    const [series] = groupBySeries(
      values.map((value) => ({ metric: 'm', value, source_id: 's', timestamp: 1 })),
      RECEIVED_AT_US,
    );
    expect(Array.from(series.nums)).toEqual([0, -3.25, 1e21, NaN, NaN, NaN, NaN, NaN]);
    expect(series.jsons).toEqual([null, null, null, '"text"', 'true', 'false', '{"a":[1,2]}', '[1,"x"]']);
  });

  it('puts the same tags in any key order in one series, with canonical tags; empty tags are no tags', () => {
    const series = groupBySeries(
      [
        { metric: 'm', value: 1, source_id: 's', tags: { b: '2', a: '1' } },
        { metric: 'm', value: 2, source_id: 's', tags: { a: '1', b: '2' } },
        { metric: 'm', value: 3, source_id: 's', tags: { a: '1', b: 2 } },
        { metric: 'm', value: 4, source_id: 's', tags: { a: '1' } },
        { metric: 'm', value: 5, source_id: 's', tags: { a: '1', b: '2', c: true } },
      ],
      RECEIVED_AT_US,
    );
    expect(series.map((s) => [s.tags, Array.from(s.nums)])).toEqual([
      ['{"a":"1","b":"2"}', [1, 2]],
      ['{"a":"1","b":2}', [3]],
      ['{"a":"1"}', [4]],
      ['{"a":"1","b":"2","c":true}', [5]],
    ]);
  });

  it('groups many tag sets under one metric exactly like a grouping by canonical key (past the scanned few)', () => {
    const points: IncomingPoint[] = [];
    for (let i = 0; i < 2000; i++) {
      const k = (i * 7919) % 37;
      const tags = k % 5 === 0 ? undefined : k % 2 ? { unit: `u${k}`, rack: String(k % 3) } : { rack: String(k % 3), unit: `u${k}` };
      points.push({
        metric: 'm',
        value: i,
        source_id: 's',
        timestamp: i,
        ...(tags ? { tags } : {}),
        ...(k % 4 ? {} : { session_id: `r${k % 3}` }),
      });
    }
    const expected = new Map<string, number[]>();
    for (const p of points) {
      const key = `${p.session_id ?? ''}\u0000${canonicalTags(p.tags)}`;
      expected.set(key, [...(expected.get(key) ?? []), p.value as number]);
    }
    const series = groupBySeries(points, RECEIVED_AT_US);
    expect(new Map(series.map((s) => [`${s.sessionId}\u0000${s.tags}`, Array.from(s.nums)]))).toEqual(expected);
    expect(series).toHaveLength(expected.size);
    expect(pointCount(series)).toBe(2000);
  });
});

describe('canonicalTags', () => {
  it('sorts keys by code unit and gives "" for no or empty tags', () => {
    expect(canonicalTags({ b: 1, a: 'x', B: true })).toBe('{"B":true,"a":"x","b":1}');
    expect(canonicalTags({})).toBe('');
    expect(canonicalTags(undefined)).toBe('');
  });
});
