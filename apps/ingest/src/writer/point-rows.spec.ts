import { describe, expect, it } from '@jest/globals';
import { telemetryBatch } from '../../../../test/support/telemetry.js';
import { SeriesRuns } from './point-rows.js';

const RECEIVED_AT_US = 1_699_900_000_123_456;

function runs(...messages: Array<[string, unknown[]]>): SeriesRuns {
  const collected = new SeriesRuns();
  for (const [org, points] of messages) collected.add(telemetryBatch(org, RECEIVED_AT_US, points));
  return collected;
}

describe('SeriesRuns', () => {
  it('gives each run its series identity and counts the points', () => {
    const collected = runs([
      'org-1',
      [
        { metric: 'temp', value: 21.5, source_id: 'rig-1', timestamp: 1, tags: { room: 'a' }, session_id: 'run-7' },
        { metric: 'state', value: 'open', source_id: 'rig-2', timestamp: 2 },
        { metric: 'temp', value: 22, source_id: 'rig-1', timestamp: 3, tags: { room: 'a' }, session_id: 'run-7' },
      ],
    ]);
    expect(collected.count).toBe(3);
    expect([0, 1].map((i) => collected.identity(i))).toEqual([
      { orgId: 'org-1', sourceId: 'rig-1', metric: 'temp', sessionId: 'run-7', tags: '{"room":"a"}' },
      { orgId: 'org-1', sourceId: 'rig-2', metric: 'state', sessionId: '', tags: '' },
    ]);
  });

  it('gives the same series key to the same tags in any order, and to no tags and empty tags', () => {
    const collected = runs(
      ['org-1', [{ metric: 'm', value: 1, source_id: 's', tags: { b: '2', a: '1' } }]],
      ['org-1', [{ metric: 'm', value: 2, source_id: 's', tags: { a: '1', b: '2' } }]],
      ['org-1', [{ metric: 'm', value: 3, source_id: 's', tags: {} }]],
      ['org-1', [{ metric: 'm', value: 4, source_id: 's' }]],
      ['org-1', [{ metric: 'm', value: 5, source_id: 's', tags: { a: '1' } }]],
    );
    const [reordered, ordered, empty, none, other] = collected.keys;
    expect(reordered).toBe(ordered);
    expect(empty).toBe(none);
    expect(new Set([ordered, none, other]).size).toBe(3);
  });

  it('keeps apart series that differ only in org, session, source or metric', () => {
    const point = { metric: 'm', value: 1, source_id: 's', session_id: 'run' };
    const { session_id: _, ...withoutSession } = point;
    const collected = runs(
      ['org-1', [point]],
      ['org-1', [withoutSession]],
      ['org-1', [{ ...point, source_id: 't' }]],
      ['org-1', [{ ...point, metric: 'n' }]],
      ['org-2', [point]],
    );
    expect(new Set(collected.keys).size).toBe(5);
  });
});
