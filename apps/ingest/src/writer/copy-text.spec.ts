import { describe, expect, it } from '@jest/globals';
import { COPY_NULL, copyText } from './copy-text.js';

describe('copyText', () => {
  it('leaves text without special characters unchanged', () => {
    expect(copyText('temp.sensor-1 "ok" ü €')).toBe('temp.sensor-1 "ok" ü €');
    expect(copyText('')).toBe('');
  });

  it.each([
    ['a backslash', 'a\\b', 'a\\\\b'],
    ['a tab', 'a\tb', 'a\\tb'],
    ['a newline', 'a\nb', 'a\\nb'],
    ['a carriage return', 'a\rb', 'a\\rb'],
  ])('escapes %s', (_what, input, expected) => {
    expect(copyText(input)).toBe(expected);
  });

  it('escapes every occurrence, backslashes first so escapes are not doubled', () => {
    expect(copyText('\\t\t\r\n\\\\')).toBe('\\\\t\\t\\r\\n\\\\\\\\');
  });

  it('keeps text that looks like the NULL marker from being read as NULL', () => {
    expect(copyText('\\N')).toBe('\\\\N');
    expect(copyText('\\N')).not.toBe(COPY_NULL);
  });

  it('marks NULL as backslash-N', () => {
    expect(COPY_NULL).toBe('\\N');
    expect(COPY_NULL).toHaveLength(2);
  });
});
