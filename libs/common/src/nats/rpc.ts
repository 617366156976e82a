import { Catch, type RpcExceptionFilter } from '@nestjs/common';
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

/** In a NATS microservice: DomainErrors go back to the caller as wire errors, anything else as INTERNAL. */
@Catch()
export class DomainRpcExceptionFilter implements RpcExceptionFilter<unknown> {
  catch(error: unknown): Observable<never> {
    if (error instanceof DomainError) return throwError(() => error.toWire());
    const message = error instanceof Error ? error.message : String(error);
    return throwError(() => ({ code: 'INTERNAL', message }));
  }
}
