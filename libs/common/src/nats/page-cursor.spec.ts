import { describe, expect, it } from '@jest/globals';
import { DomainError } from '../errors.js';
import { decodePageCursor, encodePageCursor, isPostgresTime, MAX_PAGE_CURSOR_LENGTH } from './page-cursor.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ID = 'b6a4f8a2-0c1d-4e5f-8a9b-0c1d2e3f4a5b';
const AT = '2026-12-02 04:52:08.123456+00';
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function refusal(cursor: unknown): { message: string; details: unknown } {
  try {
    decodePageCursor(cursor, UUID);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('BAD_REQUEST');
    return { message: (error as DomainError).message, details: (error as DomainError).details };
  }
  throw new Error(`accepted ${JSON.stringify(cursor)}`);
}

describe('page cursors', () => {
  it('gives back exactly the position it was made from', () => {
    const cursor = encodePageCursor([AT, ID]);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageCursor(cursor, UUID)).toEqual([AT, ID]);
    for (const at of ['2024-02-29 23:59:59+00', '0001-01-01 00:00:00+00', '2026-06-01 12:00:00.5+05:30', '1890-01-01 00:00:00-00:17:30']) {
      expect(decodePageCursor(encodePageCursor([at, ID]), UUID)).toEqual([at, ID]);
    }
  });

  it.each<[string, unknown, RegExp]>([
    ['a number', 7, /must be a string/],
    ['null', null, /must be a string/],
    ['an object', { at: AT, id: ID }, /must be a string/],
    ['empty', '', /1 to 512 characters/],
    ['too long', 'A'.repeat(MAX_PAGE_CURSOR_LENGTH + 1), /1 to 512 characters/],
    ['not base64url', 'abc+/=', /not base64url/],
    [
      'a valid cursor with a NUL inside (Buffer would skip it)',
      `${encodePageCursor([AT, ID]).slice(0, 8)}\u0000${encodePageCursor([AT, ID]).slice(8)}`,
      /not base64url/,
    ],
    ['a valid cursor with a space inside', `${encodePageCursor([AT, ID])} `, /not base64url/],
    ['a lone surrogate', '\ud800', /not base64url/],
    ['an emoji', '\ud83d\ude00', /not base64url/],
    ['non-canonical base64url (stray trailing bits)', `${encodePageCursor([AT, ID]).slice(0, -1)}_`, /not base64url|not JSON/],
    ['base64url of something not JSON', Buffer.from('not a cursor').toString('base64url'), /not JSON/],
    ['a JSON object', cursorOf({ at: AT, id: ID }), /not a page position/],
    ['three items', cursorOf([AT, ID, 'x']), /not a page position/],
    ['a number as the id', cursorOf([AT, 1]), /not a page position/],
    ['month 13', cursorOf(['2026-13-01 00:00:00+00', ID]), /time is not a valid time/],
    ['31 February', cursorOf(['2026-02-31 00:00:00+00', ID]), /time is not a valid time/],
    ['29 February of a common year', cursorOf(['2100-02-29 00:00:00+00', ID]), /time is not a valid time/],
    ['year 0', cursorOf(['0000-01-01 00:00:00+00', ID]), /time is not a valid time/],
    ['an ISO time', cursorOf(['2026-12-02T04:52:08Z', ID]), /time is not a valid time/],
    ['SQL in the time', cursorOf([`${AT}'; DROP TABLE command_audit; --`, ID]), /time is not a valid time/],
    ['an id of another kind', cursorOf([AT, 'alr_x']), /id is not an id of this listing/],
    ['an upper-case uuid', cursorOf([AT, ID.toUpperCase()]), /id is not an id of this listing/],
  ])('refuses %s, naming cursor', (_, cursor, problem) => {
    const { message, details } = refusal(cursor);
    expect(message).toMatch(problem);
    expect(message).toMatch(/^"cursor" /);
    expect(details).toEqual([{ field: 'cursor', message }]);
  });

  it('reads times as PostgreSQL writes them and nothing it would refuse', () => {
    expect(isPostgresTime('9999-12-31 23:59:59.999999+15:59:59')).toBe(true);
    expect(isPostgresTime('2026-12-02 24:00:00+00')).toBe(false);
    expect(isPostgresTime('2026-12-02 23:60:00+00')).toBe(false);
    expect(isPostgresTime('2026-12-02 23:00:60+00')).toBe(false);
    expect(isPostgresTime('2026-12-02 23:00:00+16')).toBe(false);
    expect(isPostgresTime('2026-12-02 23:00:00.1234567+00')).toBe(false);
    expect(isPostgresTime('10000-01-01 00:00:00+00')).toBe(false);
    expect(isPostgresTime('2026-12-02 23:00:00+00 BC')).toBe(false);
  });
});
