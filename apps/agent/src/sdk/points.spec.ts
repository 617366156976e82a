import { describe, expect, it } from '@jest/globals';
import { ValidationError } from './errors.js';
import { ingestBodies, MAX_BODY_BYTES, toSeconds, toWirePoint, type WirePoint } from './points.js';

const NOW_MS = 1_699_900_000_123;

describe('toSeconds', () => {
  it('turns a Date and a millisecond number into seconds with millisecond precision', () => {
    expect(toSeconds(new Date(NOW_MS))).toBe(1_699_900_000.123);
    expect(toSeconds(NOW_MS)).toBe(1_699_900_000.123);
  });

  it('keeps seconds as given, microseconds included', () => {
    expect(toSeconds(1_699_900_000.654321)).toBe(1_699_900_000.654321);
  });

  it.each([[Number.NaN], [-1], [Number.POSITIVE_INFINITY], [new Date('not a date')]])('refuses %p', (timestamp) => {
    expect(() => toSeconds(timestamp)).toThrow(ValidationError);
  });
});

describe('toWirePoint', () => {
  it('stamps the point now, in seconds, with its source', () => {
    expect(toWirePoint({ metric: 'temp', value: 21.5 }, 'rig-1', NOW_MS)).toEqual({
      metric: 'temp',
      value: 21.5,
      timestamp: 1_699_900_000.123,
      source_id: 'rig-1',
    });
  });

  it('carries tags, session and an explicit time under the contract names', () => {
    expect(
      toWirePoint(
        { metric: 'pose', value: { x: 1 }, timestamp: 1_700_000_000, tags: { arm: 'left' }, sessionId: 'run-7' },
        'rig-1',
        NOW_MS,
      ),
    ).toEqual({
      metric: 'pose',
      value: { x: 1 },
      timestamp: 1_700_000_000,
      source_id: 'rig-1',
      tags: { arm: 'left' },
      session_id: 'run-7',
    });
  });

  it.each([
    ['a NaN reading', 'temp', Number.NaN],
    ['an infinite reading', 'temp', Number.POSITIVE_INFINITY],
    ['null', 'temp', null],
    ['undefined', 'temp', undefined],
    ['an empty metric', '', 1],
    ['a metric over 256 characters', 'm'.repeat(257), 1],
  ])('refuses %s', (_case, metric, value) => {
    expect(() => toWirePoint({ metric, value: value as number }, 'rig-1', NOW_MS)).toThrow(ValidationError);
  });
});

describe('ingestBodies', () => {
  const point = (index: number, value: WirePoint['value'] = index): WirePoint => ({ metric: 'm', value, timestamp: 1, source_id: 's' });

  it('cuts at 10,000 points per request, in order', () => {
    const bodies = ingestBodies(Array.from({ length: 20_001 }, (_, index) => point(index)));
    expect(bodies.map((body) => body.count)).toEqual([10_000, 10_000, 1]);
    const values = bodies.flatMap((body) => (JSON.parse(body.json) as { points: WirePoint[] }).points.map((wire) => wire.value));
    expect(values).toEqual(Array.from({ length: 20_001 }, (_, index) => index));
  });

  it('halves a body over 5 MiB of JSON until every part fits', () => {
    const bigString = 'x'.repeat(60 * 1024);
    const points = Array.from({ length: 200 }, (_, index) => point(index, bigString));
    const bodies = ingestBodies(points);
    expect(bodies.length).toBeGreaterThan(1);
    expect(bodies.reduce((sum, body) => sum + body.count, 0)).toBe(200);
    for (const body of bodies) expect(Buffer.byteLength(body.json)).toBeLessThanOrEqual(MAX_BODY_BYTES);
  });

  it('sends nothing for no points', () => {
    expect(ingestBodies([])).toEqual([]);
  });
});
