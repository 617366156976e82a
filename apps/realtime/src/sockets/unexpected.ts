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
