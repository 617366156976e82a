import { describe, expect, it } from '@jest/globals';
import { REALTIME_LIMITS } from '../wire/limits.js';
import { isOrgId, isPrintable, isSourceId, jsonDepthExceeds, quoteInput } from './realtime.js';

describe('quoteInput', () => {
  it('quotes at most 64 characters of input, JSON-escaped', () => {
    expect(quoteInput('teleport')).toBe('"teleport"');
    const quoted = quoteInput('x'.repeat(1024 * 1024));
    expect(quoted).toBe(`"${'x'.repeat(64)}"…`);
    expect(quoteInput('a"\u0000\n\ud800')).toBe('"a\\"\\u0000\\n\\ud800"');
    expect(quoteInput({ deep: 1 })).toBe('"{\\"deep\\":1}"');
    expect(quoteInput(undefined)).toBe('"undefined"');
  });
});

describe('jsonDepthExceeds', () => {
  it('counts nesting outside strings only, without recursion', () => {
    expect(jsonDepthExceeds('{"a":[1,{"b":2}]}', 3)).toBe(false);
    expect(jsonDepthExceeds('{"a":[1,{"b":[2]}]}', 3)).toBe(true);
    expect(jsonDepthExceeds(`{"a":"${'['.repeat(100)}\\"{{"}`, 2)).toBe(false);
    expect(jsonDepthExceeds('['.repeat(10_000) + ']'.repeat(10_000))).toBe(true);
    expect(jsonDepthExceeds(`${'['.repeat(REALTIME_LIMITS.maxDepth)}${']'.repeat(REALTIME_LIMITS.maxDepth)}`)).toBe(false);
  });
});

describe('ids', () => {
  it('accepts the ingest rule for source ids and printable, bounded strings elsewhere', () => {
    expect(isSourceId('sensor-01.lab:a_b')).toBe(true);
    for (const bad of ['', '.x', 'a b', 'lab\u02e0', 'x'.repeat(129), 7, null]) expect(isSourceId(bad)).toBe(false);
    expect(isPrintable('session 1', 128)).toBe(true);
    for (const bad of ['', '\u0000', 'a\nb', '\ud800', 'a\udc00', 'x'.repeat(129), 1]) expect(isPrintable(bad, 128)).toBe(false);
    expect(isPrintable('\u{1F600}', 128)).toBe(true);
    expect(isOrgId('default')).toBe(true);
    expect(isOrgId('x'.repeat(129))).toBe(false);
  });
});
