import { describe, expect, it } from '@jest/globals';
import { fitInBytes } from './reply-budget.js';

describe('fitInBytes', () => {
  it('keeps every item when the whole array fits, counted as JSON.stringify writes it', () => {
    const items = ['ab', 'cd'];
    const exact = Buffer.byteLength(JSON.stringify(items));
    expect(fitInBytes(items, exact)).toEqual({ fitted: items, truncated: false });
    expect(fitInBytes(items, exact - 1)).toEqual({ fitted: ['ab'], truncated: true });
  });

  it('counts UTF-8 bytes of escaped text, not characters', () => {
    // "\u0001" is written as 6 characters, "é" as 2 bytes.
    expect(fitInBytes(['\u0001'], 2 + 8)).toEqual({ fitted: ['\u0001'], truncated: false });
    expect(fitInBytes(['\u0001'], 2 + 7)).toEqual({ fitted: [], truncated: true });
    expect(fitInBytes(['é'], 2 + 4)).toEqual({ fitted: ['é'], truncated: false });
    expect(fitInBytes(['é'], 2 + 3)).toEqual({ fitted: [], truncated: true });
  });

  it('answers nothing for nothing, and never more than the budget however large an item is', () => {
    expect(fitInBytes([], 0)).toEqual({ fitted: [], truncated: false });
    expect(fitInBytes([{ big: 'x'.repeat(10_000) }, { small: 1 }], 100)).toEqual({ fitted: [], truncated: true });
  });

  it('keeps the first item of a page whatever its size when asked, and no more past the budget', () => {
    const big = { big: 'x'.repeat(10_000) };
    expect(fitInBytes([big, { small: 1 }], 100, true)).toEqual({ fitted: [big], truncated: true });
    expect(fitInBytes([], 100, true)).toEqual({ fitted: [], truncated: false });
  });
});
