import { describe, expect, it } from '@jest/globals';
import { addMessagePoints, ParsedPoints, PoisonMessageError } from './point-rows.js';

const RECEIVED_AT_US = 1_699_900_000_123_456;

function message(points: unknown[], overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({ org_id: 'org-1', received_at_us: RECEIVED_AT_US, request: { points }, ...overrides });
}

function parse(...messages: Array<string | Uint8Array>): ParsedPoints {
  const parsed = new ParsedPoints();
  for (const data of messages) addMessagePoints(data, parsed);
  return parsed;
}

function poison(data: string | Uint8Array): PoisonMessageError {
  try {
    parse(data);
  } catch (error) {
    expect(error).toBeInstanceOf(PoisonMessageError);
    return error as PoisonMessageError;
  }
  throw new Error('expected a PoisonMessageError, nothing was thrown');
}

describe('addMessagePoints', () => {
  it('gives each point its series identity, time in microseconds and value', () => {
    const parsed = parse(
      message([
        { metric: 'temp', value: 21.5, source_id: 'rig-1', timestamp: 1_699_900_000.654321, tags: { room: 'a' }, session_id: 'run-7' },
        { metric: 'state', value: 'open', source_id: 'rig-2', timestamp: 1_699_900_000_500 },
      ]),
    );
    expect(parsed.count).toBe(2);
    expect([0, 1].map((i) => parsed.identity(i))).toEqual([
      { orgId: 'org-1', sourceId: 'rig-1', metric: 'temp', sessionId: 'run-7', tags: '{"room":"a"}' },
      { orgId: 'org-1', sourceId: 'rig-2', metric: 'state', sessionId: '', tags: '' },
    ]);
    expect(parsed.timesUs).toEqual([1_699_900_000_654_321, 1_699_900_000_500_000]);
    expect(parsed.nums).toEqual([21.5, null]);
    expect(parsed.jsons).toEqual([null, '"open"']);
  });

  it('puts numbers in value_num and every other type in value_json as JSON text', () => {
    const values = [0, -3.25, 1e21, 'text', true, false, { a: [1, 2] }, [1, 'x']];
    const parsed = parse(message(values.map((value) => ({ metric: 'm', value, source_id: 's', timestamp: 1 }))));
    expect(parsed.nums).toEqual([0, -3.25, 1e21, null, null, null, null, null]);
    expect(parsed.jsons).toEqual([null, null, null, '"text"', 'true', 'false', '{"a":[1,2]}', '[1,"x"]']);
  });

  it('gives a point without a timestamp the time the message was received', () => {
    expect(parse(message([{ metric: 'm', value: 1, source_id: 's' }])).timesUs).toEqual([RECEIVED_AT_US]);
  });

  it('gives the same series key to the same tags in any order, and to no tags and empty tags', () => {
    const parsed = parse(
      message([
        { metric: 'm', value: 1, source_id: 's', tags: { b: '2', a: '1' } },
        { metric: 'm', value: 2, source_id: 's', tags: { a: '1', b: '2' } },
        { metric: 'm', value: 3, source_id: 's', tags: {} },
        { metric: 'm', value: 4, source_id: 's' },
        { metric: 'm', value: 5, source_id: 's', tags: { a: '1' } },
      ]),
    );
    const [reordered, ordered, empty, none, other] = parsed.keys;
    expect(reordered).toBe(ordered);
    expect(empty).toBe(none);
    expect(new Set([ordered, none, other]).size).toBe(3);
    expect(parsed.identity(0).tags).toBe('{"a":"1","b":"2"}');
  });

  it('keeps apart series that differ only in org, session, source or metric', () => {
    const point = { metric: 'm', value: 1, source_id: 's', session_id: 'run' };
    const parsed = parse(
      message([point, { ...point, session_id: undefined }, { ...point, source_id: 't' }, { ...point, metric: 'n' }]),
      message([point], { org_id: 'org-2' }),
    );
    expect(new Set(parsed.keys).size).toBe(5);
  });

  it('accepts the message as bytes', () => {
    const text = message([{ metric: 'm', value: 2, source_id: 's', timestamp: 1 }]);
    expect(parse(new TextEncoder().encode(text))).toEqual(parse(text));
  });

  it('throws a PoisonMessageError for a message that is not JSON', () => {
    expect(poison('{not json').message).toMatch(/^message is not JSON/);
    expect(poison(new Uint8Array([0xff, 0xfe])).message).toMatch(/^message is not JSON/);
  });

  it.each([
    ['missing org_id', { org_id: undefined }],
    ['a numeric org_id', { org_id: 42 }],
    ['missing received_at_us', { received_at_us: undefined }],
    ['a fractional received_at_us', { received_at_us: 1.5 }],
  ])('throws a PoisonMessageError for %s', (_what, overrides) => {
    expect(poison(message([{ metric: 'm', value: 1, source_id: 's' }], overrides)).message).toBe('message lacks org_id or received_at_us');
  });

  it('throws a PoisonMessageError for JSON null', () => {
    expect(poison('null').message).toBe('message lacks org_id or received_at_us');
  });

  it('throws a PoisonMessageError naming the bad point', () => {
    expect(
      poison(
        message([
          { metric: 'm', value: 1, source_id: 's' },
          { metric: 'm', value: null, source_id: 's' },
        ]),
      ).message,
    ).toMatch(/^invalid points: points\[1\]\.value /);
    expect(poison(message([])).message).toMatch(/^invalid points: points must hold at least one point/);
    expect(poison(JSON.stringify({ org_id: 'o', received_at_us: 1 })).message).toMatch(/^invalid points: /);
  });
});
