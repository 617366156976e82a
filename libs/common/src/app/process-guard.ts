import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { METRICS } from '../metrics/metrics.js';

const unexpectedLogger = new Logger('Unexpected');

/**
 * An error no handler expected: logged with its stack under an error id and counted in
 * `plexus_unexpected_errors_total{where}`, never rethrown. Answers the error id.
 */
export function reportUnexpected(where: string, error: unknown): string {
  const errorId = randomUUID();
  METRICS.unexpectedErrors.inc({ where });
  unexpectedLogger.error({ message: `unexpected error in ${where}`, error_id: errorId, error: (error as Error)?.stack ?? String(error) });
  return errorId;
}

let installed = false;

/**
 * The last line of defence: an error no handler caught (a throw in a socket or timer callback,
 * a rejected promise nobody awaited) is reported as `where="process"` and the process keeps
 * serving. Every entry point catches what a request can throw on its own; this only keeps one
 * missed case from taking a whole app (and every tenant on it) down.
 */
export function guardProcess(): void {
  if (installed) return;
  installed = true;
  process.on('uncaughtException', (error) => reportUnexpected('process', error));
  process.on('unhandledRejection', (reason) => reportUnexpected('process', reason));
}
