import { randomUUID } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import { METRICS } from '../metrics/metrics.js';

let installed = false;

/**
 * The last line of defence: an error no handler caught (a throw in a socket or timer callback,
 * a rejected promise nobody awaited) is logged with an error id and counted in
 * `plexus_unexpected_errors_total{where="process"}`, and the process keeps serving. Every entry
 * point catches what a request can throw on its own; this only keeps one missed case from
 * taking a whole app (and every tenant on it) down.
 */
export function guardProcess(logger: Logger): void {
  if (installed) return;
  installed = true;
  const report = (kind: string, error: unknown) => {
    const errorId = randomUUID();
    METRICS.unexpectedErrors.inc({ where: 'process' });
    logger.error({ message: `unexpected ${kind}; the app keeps running`, error_id: errorId, error: (error as Error)?.stack ?? String(error) });
  };
  process.on('uncaughtException', (error) => report('exception', error));
  process.on('unhandledRejection', (reason) => report('rejection', reason));
}
