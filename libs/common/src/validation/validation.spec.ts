import { describe, expect, it } from '@jest/globals';
import { IsBoundedJsonObject, IsOmittable, jsonObjectProblem, SESSION_JSON_BOUNDS } from './bounded-json.js';
import { jsonNestsDeeperThan } from './json-depth.js';
import { findUnsafeText, unsafeTextReason } from './text-safety.js';
import { IsString } from 'class-validator';
import { validateSync } from 'class-validator';

const nested = (depth: number, open = '[', close = ']') => `${open.repeat(depth)}${close.repeat(depth)}`;

describe('jsonNestsDeeperThan', () => {
  it('counts arrays and objects, refusing one level past the bound', () => {
    expect(jsonNestsDeeperThan(nested(64), 64)).toBe(false);
    expect(jsonNestsDeeperThan(nested(65), 64)).toBe(true);
    expect(jsonNestsDeeperThan('{"a":'.repeat(65) + '1' + '}'.repeat(65), 64)).toBe(true);
    expect(jsonNestsDeeperThan(Buffer.from(nested(10_000)), 64)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ note: '[[[[{{{{' + '"\\'.repeat(100) + '[[[[' });
    expect(jsonNestsDeeperThan(text, 1)).toBe(false);
    expect(jsonNestsDeeperThan(Buffer.from(JSON.stringify(['é[[[', { 'k[': '{{' }])), 2)).toBe(false);
  });

  it('ends a string at a quote after an even run of backslashes, not after an odd one', () => {
    // "a\\" ends the string: the brackets after it count.
    expect(jsonNestsDeeperThan('["a\\\\",[[1]]]', 2)).toBe(true);
    // "a\\\"[[" does not end at the escaped quote: the brackets are inside the string.
    expect(jsonNestsDeeperThan('["a\\\\\\"[[",1]', 1)).toBe(false);
    // An unterminated string hides nothing: the parser refuses it.
    expect(jsonNestsDeeperThan('["[[[[', 1)).toBe(false);
  });

  it('agrees with a byte-by-byte reference wherever the escapes and brackets of a string fall, short or long', () => {
    // Reference: every string scanned one byte at a time, a backslash skipping the next byte.
    const reference = (text: string, maxDepth: number): boolean => {
      const bytes = Buffer.from(text);
      let depth = 0;
      for (let i = 0; i < bytes.length; i++) {
        if (bytes[i] === 0x22) {
          for (i++; i < bytes.length && bytes[i] !== 0x22; i++) if (bytes[i] === 0x5c) i++;
          if (i >= bytes.length) return false;
        } else if (bytes[i] === 0x5b || bytes[i] === 0x7b) {
          if (++depth > maxDepth) return true;
        } else if (bytes[i] === 0x5d || bytes[i] === 0x7d) depth--;
      }
      return false;
    };
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), seed % n);
    const pieces = ['\\\\', '\\"', '[', ']', '{', '}', 'a', 'é', '\\u0041'];
    for (let round = 0; round < 2_000; round++) {
      // A string of 0–80 characters (escapes at every offset, across the short/long boundary), then brackets.
      let inner = '';
      for (let n = random(80); n > 0; n--) inner += pieces[random(pieces.length)];
      const text = `[${'['.repeat(random(3))}"${inner}"${random(2) ? '' : '"'},[[1]]${']'.repeat(3)}`;
      expect([round, jsonNestsDeeperThan(text, 2)]).toEqual([round, reference(text, 2)]);
    }
  });

  it('is flat for siblings however many', () => {
    expect(jsonNestsDeeperThan(`[${'[],'.repeat(100_000)}[]]`, 2)).toBe(false);
  });
});

describe('findUnsafeText', () => {
  it('finds NUL and lone surrogates in values and keys, naming the path', () => {
    expect(findUnsafeText({ name: 'a\u0000' })).toEqual({ path: 'name', reason: 'must not contain NUL (\\u0000) characters' });
    expect(findUnsafeText({ tags: { room: ['ok', '\ud800'] } })).toEqual({
      path: 'tags.room[1]',
      reason: 'must be valid Unicode (no lone surrogates)',
    });
    expect(findUnsafeText({ metadata: { ['k\udc00']: 1 } })).toEqual({
      path: 'metadata["k\\udc00"]',
      reason: 'has a key that must be valid Unicode (no lone surrogates)',
    });
    expect(findUnsafeText('\u0000')).toEqual({ path: '', reason: 'must not contain NUL (\\u0000) characters' });
  });

  it('accepts ordinary text, surrogate pairs and non-strings', () => {
    expect(findUnsafeText({ a: 'é 😀 \\u0000', b: [1, true, null, { c: 'ok' }] })).toBeUndefined();
    expect(unsafeTextReason('😀')).toBeUndefined();
  });

  it('reports nesting past the bound without recursing', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findUnsafeText(deep, 64)?.reason).toBe('must not nest deeper than 64 levels');
  });

  it('keeps the path short when a key is long', () => {
    const problem = findUnsafeText({ ['k'.repeat(10_000)]: '\u0000' });
    expect(problem!.path.length).toBeLessThan(80);
  });
});

class Example {
  @IsOmittable()
  @IsString()
  name?: string;

  @IsOmittable()
  @IsBoundedJsonObject(SESSION_JSON_BOUNDS)
  tags?: Record<string, unknown>;
}

function errorsOf(value: Record<string, unknown>): string[] {
  return validateSync(Object.assign(new Example(), value)).flatMap((error) => Object.values(error.constraints ?? {}));
}

describe('IsOmittable and IsBoundedJsonObject', () => {
  it('skips absent fields but refuses null', () => {
    expect(errorsOf({})).toEqual([]);
    expect(errorsOf({ name: null })).toEqual(['name must be a string']);
    expect(errorsOf({ tags: null })).toEqual(['tags must be an object']);
  });

  it('bounds size, depth and text', () => {
    expect(errorsOf({ tags: { a: 'x'.repeat(64 * 1024) } })).toEqual(['tags must be at most 64 KiB as JSON']);
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = { d: deep };
    expect(errorsOf({ tags: deep as Record<string, unknown> })).toEqual([expect.stringContaining('must not nest deeper than 32 levels')]);
    expect(errorsOf({ tags: { a: '\u0000' } })).toEqual(['tags a must not contain NUL (\\u0000) characters']);
    expect(errorsOf({ tags: [] as unknown as Record<string, unknown> })).toEqual(['tags must be an object']);
    expect(jsonObjectProblem({ ok: { nested: [1, 'two'] } }, SESSION_JSON_BOUNDS)).toBeUndefined();
  });
});
