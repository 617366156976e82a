import { describe, expect, it } from '@jest/globals';
import { validateSync } from 'class-validator';
import { KEY_LIMITS } from '../messages/sources.js';
import { codePointLength, IsKeyName, keyNameProblem } from './key-name.js';

const MAX = KEY_LIMITS.maxNameLength;
const EMOJI = '\u{1F600}'; // 😀: one code point, two UTF-16 units, four UTF-8 bytes
const E_ACUTE_DECOMPOSED = 'e\u0301'; // é as e + COMBINING ACUTE ACCENT: two code points, one grapheme

class Named {
  @IsKeyName()
  name: unknown;
}
const dtoProblem = (name: unknown) => {
  const named = Object.assign(new Named(), { name });
  return validateSync(named).flatMap((error) => Object.values(error.constraints ?? {}))[0];
};

describe('the API key name rule (gateway and pairing alike)', () => {
  it('counts code points: an astral emoji is one, whatever its UTF-16 length', () => {
    expect(codePointLength(EMOJI.repeat(MAX))).toBe(MAX);
    expect(EMOJI.repeat(MAX).length).toBe(2 * MAX);
    expect(keyNameProblem(EMOJI.repeat(MAX))).toBeUndefined();
    expect(keyNameProblem(EMOJI.repeat(MAX + 1))).toMatch(/1 to 128 characters \(Unicode code points\): it is longer/);
    expect(keyNameProblem('a'.repeat(MAX - 1) + EMOJI)).toBeUndefined();
    expect(keyNameProblem('a'.repeat(MAX) + EMOJI)).toBeDefined();
  });

  it('counts a combining mark, a variation selector and a joiner as characters of their own', () => {
    expect(codePointLength(E_ACUTE_DECOMPOSED)).toBe(2);
    expect(keyNameProblem(E_ACUTE_DECOMPOSED.repeat(MAX / 2))).toBeUndefined();
    expect(keyNameProblem(E_ACUTE_DECOMPOSED.repeat(MAX / 2) + 'e')).toBeDefined();
    // ❤️ is U+2764 U+FE0F: two (class-validator's @Length would have counted one).
    expect(keyNameProblem('\u2764\ufe0f'.repeat(MAX / 2))).toBeUndefined();
    expect(keyNameProblem('\u2764\ufe0f'.repeat(MAX / 2 + 1))).toBeDefined();
    // 👩‍💻 is woman, ZWJ, laptop: three.
    expect(codePointLength('\u{1F469}\u200d\u{1F4BB}')).toBe(3);
    // A thousand marks on one letter is one grapheme and 1,001 characters: refused.
    expect(keyNameProblem('a' + '\u0301'.repeat(1000))).toBeDefined();
  });

  it('refuses NUL and lone surrogates wherever they are, as every string of the API', () => {
    for (const name of ['\u0000', 'ci\u0000', '\ud800', 'a\udc00b', `${EMOJI}\ud83d`, '\ude00' + EMOJI]) {
      expect([JSON.stringify(name), keyNameProblem(name)]).toEqual([JSON.stringify(name), expect.stringMatching(/NUL|lone surrogates/)]);
    }
  });

  it('refuses the empty name, a name of whitespace only and anything not a string; keeps other control characters', () => {
    for (const name of ['', ' ', '\t\n', undefined, null, 42, ['ci'], { name: 'ci' }]) {
      expect([JSON.stringify(name), keyNameProblem(name)]).toEqual([JSON.stringify(name), expect.stringMatching(/^must be a string/)]);
    }
    expect(keyNameProblem('\u0001'.repeat(MAX))).toBeUndefined();
    expect(keyNameProblem(' ci uploader ')).toBeUndefined();
  });

  it('counts a lone surrogate as one and stops counting where asked (a huge name is not walked whole)', () => {
    expect(codePointLength('\ud800\ud800')).toBe(2);
    expect(codePointLength('a'.repeat(10_000_000), MAX + 1)).toBe(MAX + 1);
    expect(codePointLength('')).toBe(0);
  });

  it('is the same rule as a class-validator constraint, naming the field', () => {
    expect(dtoProblem(EMOJI.repeat(MAX))).toBeUndefined();
    expect(dtoProblem(EMOJI.repeat(MAX + 1))).toBe(`name ${keyNameProblem(EMOJI.repeat(MAX + 1))}`);
    expect(dtoProblem(undefined)).toMatch(/^name must be a string/);
    expect(dtoProblem('a\u0000')).toMatch(/^name must not contain NUL/);
  });
});
