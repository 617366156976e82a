import { describe, expect, it } from '@jest/globals';
import { decodeFeedSummary, encodeFeedSummary, feedSeriesJson, feedSummaryOverhead, summariseSeries } from './alert-feed-summary.js';

const T = 1_790_000_000_000_000;
const entry = (fields: Partial<Record<number, unknown>> = {}) => {
  const base: unknown[] = [7, 'rig', 'temp', '', 3, T, T + 2, 2, -1.5, 20, T + 1];
  for (const [i, value] of Object.entries(fields)) base[Number(i)] = value;
  return base;
};
const decode = (value: unknown) => decodeFeedSummary(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));

describe('feed summaries (plexus-feed-2)', () => {
  it('summarises a series’ runs and reads back what it wrote, numbers exactly', () => {
    const s = summariseSeries(7, [
      {
        sourceId: 'rig',
        metric: 'temp',
        sessionId: '',
        tags: '{"a":1}',
        timesUs: [T + 2, T],
        nums: [NaN, 0.1 + 0.2],
        jsons: ['"x"', null],
      },
      { sourceId: 'rig', metric: 'temp', sessionId: 's', tags: '{"a":1}', timesUs: [T + 1], nums: [-1e-300], jsons: null },
    ]);
    expect(s).toEqual({
      seriesId: 7,
      sourceId: 'rig',
      metric: 'temp',
      tags: '{"a":1}',
      count: 3,
      firstUs: T,
      latestUs: T + 2,
      numbers: 2,
      min: -1e-300,
      max: 0.1 + 0.2,
      latestNumberUs: T + 1,
    });
    const text = feedSeriesJson(s);
    const bytes = encodeFeedSummary('org "x"', [text]);
    expect(bytes.length).toBe(feedSummaryOverhead('org "x"') + Buffer.byteLength(text));
    expect(decodeFeedSummary(bytes)).toEqual({ orgId: 'org "x"', series: [s] });
  });

  it('carries a series without numbers as nulls', () => {
    const s = summariseSeries(1, [
      { sourceId: 'rig', metric: 'mode', sessionId: '', tags: '', timesUs: [T], nums: [NaN], jsons: ['"on"'] },
    ]);
    expect(feedSeriesJson(s)).toBe(JSON.stringify([1, 'rig', 'mode', '', 1, T, T, 0, null, null, null]));
    expect(decodeFeedSummary(encodeFeedSummary('o', [feedSeriesJson(s)])).series[0]).toEqual(s);
  });

  it.each([
    ['not JSON', '{"org":', /not JSON/],
    ['deep nesting', '['.repeat(100_000), /not JSON/],
    ['an array', [], /not an object/],
    ['no org', { series: [] }, /no valid org/],
    ['an org with NUL', { org: 'o\u0000', series: [] }, /no valid org/],
    ['an org with a lone surrogate', { org: 'o\ud800', series: [] }, /no valid org/],
    ['a long org', { org: 'o'.repeat(257), series: [] }, /no valid org/],
    ['no series list', { org: 'o', series: {} }, /no series list/],
    ['a short entry', { org: 'o', series: [[1, 'rig']] }, /11 fields/],
    ['series id 0', { org: 'o', series: [entry({ 0: 0 })] }, /series id/],
    ['series id 2^64', { org: 'o', series: [entry({ 0: 2 ** 64 })] }, /series id/],
    ['series id 1.5', { org: 'o', series: [entry({ 0: 1.5 })] }, /series id/],
    ['series id as text', { org: 'o', series: [entry({ 0: '7' })] }, /series id/],
    ['an empty source', { org: 'o', series: [entry({ 1: '' })] }, /source or metric/],
    ['a metric with NUL', { org: 'o', series: [entry({ 2: 'te\u0000mp' })] }, /source or metric/],
    ['tags that are not JSON', { org: 'o', series: [entry({ 3: '{' })] }, /tags/],
    ['tags of an array', { org: 'o', series: [entry({ 3: '[1]' })] }, /tags/],
    ['empty tags object', { org: 'o', series: [entry({ 3: '{}' })] }, /tags/],
    ['tags with a lone surrogate', { org: 'o', series: [entry({ 3: '{"a":"\ud800"}' })] }, /tags/],
    ['count 0', { org: 'o', series: [entry({ 4: 0 })] }, /count/],
    ['times reversed', { org: 'o', series: [entry({ 5: T + 3 })] }, /times/],
    ['a time past any number (1e400 parses as Infinity)', '{"org":"o","series":[[7,"rig","temp","",3,1,1e400,2,-1.5,20,1]]}', /times/],
    ['more numbers than points', { org: 'o', series: [entry({ 7: 4 })] }, /numbers/],
    ['min above max', { org: 'o', series: [entry({ 8: 21 })] }, /span/],
    ['a span without numbers', { org: 'o', series: [entry({ 7: 0 })] }, /without numbers/],
    ['the latest number out of range', { org: 'o', series: [entry({ 10: T + 5 })] }, /latest number/],
  ])('refuses %s, naming the problem', (_, value, problem) => {
    expect(() => decode(value)).toThrow(problem);
  });
});
