import { DomainError } from '#common';

/**
 * Checks on NATS requests, which also come from operators' scripts: a missing field is a
 * BAD_REQUEST naming it, never a crash.
 */
export function requireString(request: unknown, field: string, maxLength = 256): string {
  const value = (request as Record<string, unknown> | null)?.[field];
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new DomainError('BAD_REQUEST', `${field} is required (a string of 1 to ${maxLength} characters)`, [
      { field, message: `${field} is required` },
    ]);
  }
  return value;
}

export function requireOrg(request: unknown): string {
  return requireString(request, 'org_id', 128);
}

/** NUL and lone surrogates: PostgreSQL text refuses them, so they are a BAD_REQUEST here, never an INTERNAL there. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * An optional free-text field (a name, a platform): absent or blank is undefined, longer than
 * `maxLength` is cut, anything but a string or text PostgreSQL cannot store is a BAD_REQUEST.
 */
export function optionalText(request: unknown, field: string, maxLength: number): string | undefined {
  const value = (request as Record<string, unknown> | null)?.[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || UNSTORABLE.test(value)) {
    throw new DomainError('BAD_REQUEST', `${field} must be text without NUL or unpaired surrogates`, [
      { field, message: `invalid ${field}` },
    ]);
  }
  return value.trim() ? value.trim().slice(0, maxLength) : undefined;
}
