import { DomainError, findUnsafeText, type WireCheck } from '#common';

/**
 * A rule body checked with the wire's own validator (the one the alerts app uses too): 400
 * INVALID_BODY naming the field. These routes take no DTO class, so the global pipe leaves their
 * bodies alone; NUL and lone surrogates are named here first, as on every other route.
 */
export function checkedBody<T>(body: unknown, check: (value: unknown) => WireCheck<T>, fields: ReadonlySet<string>): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('body', 'the body must be a JSON object');
  const unsafe = findUnsafeText(body);
  if (unsafe) {
    const field = unsafe.path || 'body';
    throw invalid(field, `${field} ${unsafe.reason}`);
  }
  // The schema's refusal of an unknown field names no field (and a partial schema lets it through).
  const unknown = Object.keys(body).find((field) => !fields.has(field));
  if (unknown !== undefined) {
    const field = unknown.slice(0, 64);
    throw invalid(field, `"${field}" is not a field of this body`);
  }
  const checked = check(body);
  if (!checked.ok) throw invalid(checked.field, checked.problem);
  return checked.frame;
}

function invalid(field: string, message: string): DomainError {
  return new DomainError('INVALID_BODY', message, [{ field, message }]);
}

/** The alerts app refuses what only it can judge (a metric missing for the condition, low > high) as BAD_REQUEST: over HTTP that is the body's fault. */
export async function asBodyError<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof DomainError && error.code === 'BAD_REQUEST') throw new DomainError('INVALID_BODY', error.message, error.details);
    throw error;
  }
}
