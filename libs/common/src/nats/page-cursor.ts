import { DomainError } from '../errors.js';

/**
 * Keyset cursors of paged listings (alerts, alert rules, the command audit): where a page ends, a
 * time as PostgreSQL writes it (`timestamptz::text`, exact to the microsecond) and a row id, handed
 * to the client as base64url of their JSON. The client gives it back untouched; anything that is
 * not one this API wrote is a BAD_REQUEST naming `cursor`, before any SQL sees it.
 */
export type PagePosition = [string, string];

/** Longer than any cursor this API writes (a time of ~32 characters, an id of ≤ 128). */
export const MAX_PAGE_CURSOR_LENGTH = 512;

/** The `next_cursor` of a page ending at `position`. */
export function encodePageCursor(position: PagePosition): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/**
 * The position of a cursor `encodePageCursor` wrote, with an id matching `idPattern`. Refused: not a
 * string, longer than MAX_PAGE_CURSOR_LENGTH, not canonical base64url (Buffer would skip stray
 * characters, so a NUL or a space inside a cursor would otherwise pass), not a [time, id] pair, or a
 * time PostgreSQL would refuse (month 13, 31 February: checked here, so it is never a database error).
 */
export function decodePageCursor(cursor: unknown, idPattern: RegExp): PagePosition {
  const problem = cursorProblem(cursor, idPattern);
  if (problem === undefined) return JSON.parse(Buffer.from(cursor as string, 'base64url').toString('utf8')) as PagePosition;
  const message = `"cursor" ${problem}: pass back the next_cursor of the page before, unchanged`;
  throw new DomainError('BAD_REQUEST', message, [{ field: 'cursor', message }]);
}

function cursorProblem(cursor: unknown, idPattern: RegExp): string | undefined {
  if (typeof cursor !== 'string') return 'must be a string';
  if (cursor.length === 0 || cursor.length > MAX_PAGE_CURSOR_LENGTH) return `must be 1 to ${MAX_PAGE_CURSOR_LENGTH} characters`;
  if (!/^[A-Za-z0-9_-]+$/.test(cursor) || Buffer.from(cursor, 'base64url').toString('base64url') !== cursor) {
    return 'is not one this API handed out (not base64url)';
  }
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return 'is not one this API handed out (not JSON)';
  }
  if (!Array.isArray(position) || position.length !== 2 || typeof position[0] !== 'string' || typeof position[1] !== 'string') {
    return 'is not one this API handed out (not a page position)';
  }
  if (!isPostgresTime(position[0])) return 'is not one this API handed out (its time is not a valid time)';
  if (!idPattern.test(position[1])) return 'is not one this API handed out (its id is not an id of this listing)';
  return undefined;
}

// timestamptz::text in the ISO DateStyle: `2026-12-02 04:52:08.123456+00`, `…+05:30`, `…-03:30:00`.
const POSTGRES_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?[+-](\d{2})(?::(\d{2}))?(?::(\d{2}))?$/;

/** A timestamptz as PostgreSQL writes it, for years 1 to 9999, that PostgreSQL reads back without error. */
export function isPostgresTime(text: string): boolean {
  const match = POSTGRES_TIME.exec(text);
  if (!match) return false;
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes, offsetSeconds] = match
    .slice(1)
    .map((part) => (part === undefined ? 0 : Number(part)));
  return (
    year >= 1 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHours <= 15 &&
    offsetMinutes <= 59 &&
    offsetSeconds <= 59
  );
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
