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
