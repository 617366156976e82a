import { DomainError } from '#common';

export const MAX_SESSION_ID_LENGTH = 128;

/** Printable: no control characters (NUL among them) and no lone surrogates (PostgreSQL text holds neither). */
const PRINTABLE = /^(?:[^\u0000-\u001f\u007f\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])+$/;

/**
 * A session id as the contract bounds it (1–128 printable characters, no NUL), checked before it
 * reaches SQL: a NUL would make PostgreSQL fail the statement, an over-long id only costs a lookup.
 */
export function checkSessionId(id: unknown): string {
  if (typeof id !== 'string' || !PRINTABLE.test(id) || [...id].length > MAX_SESSION_ID_LENGTH) {
    throw new DomainError('BAD_REQUEST', `session_id must be 1–${MAX_SESSION_ID_LENGTH} printable characters`, [
      { field: 'session_id', message: `session_id must be 1–${MAX_SESSION_ID_LENGTH} printable characters, no NUL` },
    ]);
  }
  return id;
}
