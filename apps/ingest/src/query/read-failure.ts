import type { Logger } from '@nestjs/common';
import { DomainError, isConnectionFailure } from '#common';
import type { IngestConfig } from '../config.js';

const QUERY_CANCELED = '57014';

/**
 * What a failed read tells its caller: a DomainError with a code, never "the answer failed
 * midway". Busy or away → 503 (retry); over the statement timeout → 503 naming the bound; a
 * value PostgreSQL finds out of range → 400 (the gateway validates first; this is the net
 * under it); anything else → INTERNAL, logged.
 */
export function readFailure(
  error: unknown,
  logger: Logger,
  limits: Pick<IngestConfig, 'queryStatementTimeoutMs' | 'readPoolSize'>,
  state: { poolFull?: boolean } = {},
): DomainError {
  if (error instanceof DomainError) return error;
  const code = (error as { code?: unknown })?.code;
  const message = (error as Error)?.message ?? String(error);
  if (code === QUERY_CANCELED) {
    return new DomainError(
      'SERVICE_UNAVAILABLE',
      `the query ran longer than the statement timeout (${limits.queryStatementTimeoutMs} ms); ask for a shorter time range, a wider bucket or a lower limit`,
    );
  }
  if (typeof code === 'string' && code.startsWith('22')) {
    return new DomainError('BAD_REQUEST', `a query parameter is out of range: ${message.slice(0, 200)}`);
  }
  if (state.poolFull) {
    return new DomainError(
      'SERVICE_UNAVAILABLE',
      `too many queries and exports in progress (${limits.readPoolSize} at once on this instance); retry shortly`,
      undefined,
      1,
    );
  }
  if (isConnectionFailure(error)) return new DomainError('SERVICE_UNAVAILABLE', 'the database is unavailable; retry shortly', undefined, 1);
  logger.error(`read failed: ${message}`);
  return new DomainError('INTERNAL', 'the read failed');
}
