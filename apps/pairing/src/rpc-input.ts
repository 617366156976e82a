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
