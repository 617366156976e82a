import { describe, expect, it } from '@jest/globals';
import { messageToCopyLines, PoisonMessageError, type SessionSeen } from './point-rows.js';

const RECEIVED_AT_US = 1_699_900_000_123_456;

function message(points: unknown[], overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({ org_id: 'org-1', received_at_us: RECEIVED_AT_US, request: { points }, ...overrides });
}

function columns(lines: string): string[][] {
  expect(lines.endsWith('\n')).toBe(true);
  return lines
    .slice(0, -1)
    .split('\n')
    .map((line) => line.split('\t'));
}

function poison(data: string | Uint8Array): PoisonMessageError {
  try {
    messageToCopyLines(data, new Map());
  } catch (error) {
    expect(error).toBeInstanceOf(PoisonMessageError);
    return error as PoisonMessageError;
  }
  throw new Error('expected a PoisonMessageError, nothing was thrown');
}

describe('messageToCopyLines', () => {
  it('writes one line of 8 tab-separated columns per point', () => {
    const { lines, count } = messageToCopyLines(
      message([
        { metric: 'temp', value: 21.5, source_id: 'rig-1', timestamp: 1_699_900_000.654321, tags: { room: 'a' }, session_id: 'run-7' },
        { metric: 'state', value: 'open', source_id: 'rig-2', timestamp: 1_699_900_000_500 },
      ]),
      new Map(),
    );
    expect(count).toBe(2);
    expect(columns(lines)).toEqual([
      ['2023-11-13T18:26:40.654321Z', 'org-1', 'rig-1', 'temp', '21.5', '\\N', '{"room":"a"}', 'run-7'],
      ['2023-11-13T18:26:40.500000Z', 'org-1', 'rig-2', 'state', '\\N', '"open"', '{}', ''],
    ]);
  });

  it('puts numbers in value_num and every other type in value_json', () => {
    const values = [0, -3.25, 1e21, 'text', true, false, { a: [1, 2] }, [1, 'x']];
    const { lines } = messageToCopyLines(
      message(values.map((value) => ({ metric: 'm', value, source_id: 's', timestamp: 1 }))),
      new Map(),
    );
    const rows = columns(lines);
    expect(rows.map((row) => [row[4], row[5]])).toEqual([
      ['0', '\\N'],
      ['-3.25', '\\N'],
      ['1e+21', '\\N'],
      ['\\N', '"text"'],
      ['\\N', 'true'],
      ['\\N', 'false'],
      ['\\N', '{"a":[1,2]}'],
      ['\\N', '[1,"x"]'],
    ]);
  });

  it('gives a point without a timestamp the time the message was received', () => {
    const { lines } = messageToCopyLines(message([{ metric: 'm', value: 1, source_id: 's' }]), new Map());
    expect(columns(lines)[0][0]).toBe('2023-11-13T18:26:40.123456Z');
  });

  it('escapes tabs, newlines and backslashes so a line keeps 8 columns', () => {
    const { lines } = messageToCopyLines(
      message(
        [{ metric: 'a\\b', value: 'line1\nline2\tend', source_id: 's', timestamp: 1, tags: { note: 'x\ty' }, session_id: 'r\\1' }],
        { org_id: 'org\t2' },
      ),
      new Map(),
    );
    const rows = columns(lines);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toHaveLength(8);
    expect(rows[0].slice(1)).toEqual(['org\\t2', 's', 'a\\\\b', '\\N', '"line1\\\\nline2\\\\tend"', '{"note":"x\\\\ty"}', 'r\\\\1']);
  });

  it('accepts the message as bytes', () => {
    const text = message([{ metric: 'm', value: 2, source_id: 's', timestamp: 1 }]);
    const fromBytes = messageToCopyLines(new TextEncoder().encode(text), new Map());
    expect(fromBytes).toEqual(messageToCopyLines(text, new Map()));
    expect(fromBytes.count).toBe(1);
  });

  it('collects each distinct session once, with the source of its first point', () => {
    const sessions = new Map<string, SessionSeen>();
    messageToCopyLines(
      message([
        { metric: 'm', value: 1, source_id: 'rig-1', session_id: 'run-1' },
        { metric: 'm', value: 2, source_id: 'rig-2', session_id: 'run-1' },
        { metric: 'm', value: 3, source_id: 'rig-2', session_id: 'run-2' },
        { metric: 'm', value: 4, source_id: 'rig-3' },
      ]),
      sessions,
    );
    expect([...sessions.values()]).toEqual([
      { orgId: 'org-1', sessionId: 'run-1', sourceId: 'rig-1' },
      { orgId: 'org-1', sessionId: 'run-2', sourceId: 'rig-2' },
    ]);
  });

  it('keeps sessions of the same id in different orgs apart and adds to an existing map', () => {
    const sessions = new Map<string, SessionSeen>();
    messageToCopyLines(message([{ metric: 'm', value: 1, source_id: 's', session_id: 'run' }]), sessions);
    messageToCopyLines(message([{ metric: 'm', value: 1, source_id: 's', session_id: 'run' }], { org_id: 'org-2' }), sessions);
    messageToCopyLines(message([{ metric: 'm', value: 1, source_id: 's', session_id: 'run' }]), sessions);
    expect([...sessions.values()].map((seen) => seen.orgId)).toEqual(['org-1', 'org-2']);
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
    expect(poison(message([{ metric: 'm', value: 1, source_id: 's' }, { metric: 'm', value: null, source_id: 's' }])).message).toMatch(
      /^invalid points: points\[1\]\.value /,
    );
    expect(poison(message([])).message).toMatch(/^invalid points: points must hold at least one point/);
    expect(poison(JSON.stringify({ org_id: 'o', received_at_us: 1 })).message).toMatch(/^invalid points: /);
  });
});
