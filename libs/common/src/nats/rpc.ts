import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, Logger, type RpcExceptionFilter } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, throwError, timeout, type Observable } from 'rxjs';
import { DomainError } from '../errors.js';

/**
 * Request/reply between apps: always with a timeout, domain errors travel as
 * `{ code, message, details }` and come back out as the same DomainError.
 */
export async function callService<T>(client: ClientProxy, subject: string, payload: unknown, timeoutMs = 2000): Promise<T> {
  try {
    return await firstValueFrom(client.send<T>(subject, payload).pipe(timeout(timeoutMs)));
  } catch (error) {
    const domain = DomainError.fromWire(error);
    if (domain) throw domain;
    if (error instanceof Error && error.name === 'TimeoutError') {
      throw new DomainError('SERVICE_UNAVAILABLE', `no answer from ${subject} within ${timeoutMs} ms; retry later`);
    }
    throw new DomainError('SERVICE_UNAVAILABLE', `broker request ${subject} failed: ${String((error as Error)?.message ?? error)}`);
  }
}

/**
 * In a NATS microservice: DomainErrors go back to the caller as wire errors. Anything else is
 * a bug: it is logged with its stack under an error id, and the caller gets INTERNAL with that
 * id only, never the raw message (which may hold SQL, paths or data).
 */
@Catch()
export class DomainRpcExceptionFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger(DomainRpcExceptionFilter.name);

  catch(error: unknown, host?: ArgumentsHost): Observable<never> {
    if (error instanceof DomainError) return throwError(() => error.toWire());
    const errorId = randomUUID();
    const subject =
      host?.getType() === 'rpc' ? (host.switchToRpc().getContext() as { getSubject?: () => string })?.getSubject?.() : undefined;
    this.logger.error({
      message: 'unhandled error in a NATS handler',
      subject,
      error_id: errorId,
      error: (error as Error)?.stack ?? String(error),
    });
    return throwError(() => new DomainError('INTERNAL', `internal error; error id ${errorId}`).toWire());
  }
}
