import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { METRICS } from '#common';

const logger = new Logger('Unexpected');

/**
 * An error no handler expected: logged with its stack under an error id and counted in
 * `plexus_unexpected_errors_total{where}`, never rethrown. Socket and NATS callbacks run on
 * the event loop, where a throw would end the process and every tenant's sockets with it.
 */
export function reportUnexpected(where: string, error: unknown): string {
  const errorId = randomUUID();
  METRICS.unexpectedErrors.inc({ where });
  logger.error({ message: `unexpected error in ${where}`, error_id: errorId, error: (error as Error)?.stack ?? String(error) });
  return errorId;
}

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
