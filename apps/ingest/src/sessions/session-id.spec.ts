import { describe, expect, it } from '@jest/globals';
import { DomainError } from '#common';
import { checkSessionId } from './session-id.js';

describe('checkSessionId', () => {
  it.each(['run-7', 'Lauf 7 — ü', 'a'.repeat(128), '😀'.repeat(128)])('accepts %j', (id) => {
    expect(checkSessionId(id)).toBe(id);
  });

  it.each([
    ['empty', ''],
    ['NUL', '\u0000'],
    ['NUL inside', 'run\u00007'],
    ['a newline', 'run\n7'],
    ['a lone surrogate', 'run\ud800'],
    ['129 characters', 'a'.repeat(129)],
    ['not a string', 42],
  ])('refuses %s with BAD_REQUEST naming session_id', (_what, id) => {
    let error: unknown;
    try {
      checkSessionId(id);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('BAD_REQUEST');
    expect((error as DomainError).details?.[0].field).toBe('session_id');
  });
});
