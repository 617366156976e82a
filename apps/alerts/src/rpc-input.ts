import { DomainError, unsafeTextReason } from '#common';

/*
 * Checks on NATS requests to the alerts app, which also come from operators' scripts and from
 * bugs in other apps: anything malformed is a BAD_REQUEST naming the field, never a crash and
 * never a database error.
 */

/** The request as an object whose fields may be read; anything else (null, an array, a number) is refused. */
export function requestObject(request: unknown): Record<string, unknown> {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new DomainError('BAD_REQUEST', 'the request must be a JSON object', [{ field: 'request', message: 'must be a JSON object' }]);
  }
  return request as Record<string, unknown>;
}

/** A required string of 1 to `maxLength` characters that PostgreSQL can store (no NUL, no lone surrogate). */
export function requireText(request: unknown, field: string, maxLength = 128): string {
  const value = requestObject(request)[field];
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength || unsafeTextReason(value)) {
    throw new DomainError('BAD_REQUEST', `"${field}" must be a string of 1 to ${maxLength} characters without NUL or lone surrogates`, [
      { field, message: `"${field}" must be a string of 1 to ${maxLength} characters` },
    ]);
  }
  return value;
}

/** Like requireText, but absent (undefined or null) is undefined. */
export function optionalText(request: unknown, field: string, maxLength = 128): string | undefined {
  const value = requestObject(request)[field];
  return value === undefined || value === null ? undefined : requireText(request, field, maxLength);
}

export function requireOrg(request: unknown): string {
  return requireText(request, 'org_id', 128);
}

/** A PostgreSQL error for a value it cannot hold (22xxx: bad date, NUL, out of range) is the caller's mistake. */
export async function refuseBadData<T>(work: Promise<T>, what: string): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('22')) {
      throw new DomainError(
        'BAD_REQUEST',
        `the ${what} holds a value the database cannot store: ${(error as Error).message.slice(0, 200)}`,
      );
    }
    throw error;
  }
}

/** Where a keyset page ends: a time as PostgreSQL writes it (`timestamptz::text`), and an id. */
export type PagePosition = [string, string];

/** The `next_cursor` of a page ending at `position`: base64url of its JSON. */
export function encodeCursor(position: PagePosition): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** A cursor this API handed out (a time and an id matching `idPattern`); anything else is a BAD_REQUEST on `cursor`. */
export function decodeCursor(cursor: string, idPattern: RegExp): PagePosition {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(decoded) &&
      decoded.length === 2 &&
      typeof decoded[0] === 'string' &&
      typeof decoded[1] === 'string' &&
      /^\d{4}-\d{2}-\d{2} [\d:.]+[+-][\d:]+$/.test(decoded[0]) &&
      idPattern.test(decoded[1])
    ) {
      return [decoded[0], decoded[1]];
    }
  } catch {
    // refused below
  }
  throw new DomainError('BAD_REQUEST', '"cursor" is not one this API handed out', [
    { field: 'cursor', message: '"cursor" is not one this API handed out' },
  ]);
}
