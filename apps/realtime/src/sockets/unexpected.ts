import { reportUnexpected } from '#common';

export { reportUnexpected };

/** `callback` made safe for the event loop: what it throws, or what its promise rejects with, is reported. */
export function guarded<A extends unknown[]>(where: string, callback: (...args: A) => unknown): (...args: A) => void {
  return (...args: A) => {
    try {
      const result = callback(...args);
      if (result instanceof Promise) result.catch((error: unknown) => reportUnexpected(where, error));
    } catch (error) {
      reportUnexpected(where, error);
    }
  };
}

/**
 * An event's JSON body, or an empty object when it is not JSON: a malformed event names nothing
 * to act on, and each handler checks the fields it uses, so it is ignored rather than reported
 * as an unexpected error.
 */
export function eventJson<T extends object>(msg: { json<V>(): V }): Partial<T> {
  try {
    const value = msg.json<unknown>();
    return value !== null && typeof value === 'object' ? (value as Partial<T>) : {};
  } catch {
    return {};
  }
}
