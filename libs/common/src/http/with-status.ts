import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { map, type Observable } from 'rxjs';

/** A controller result whose status depends on the outcome (201 created / 200 found), without @Res(). */
export class WithStatus<T> {
  constructor(
    readonly status: number,
    readonly body: T,
  ) {}
}

@Injectable()
export class WithStatusInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      map((result: unknown) => {
        if (!(result instanceof WithStatus)) return result;
        void context.switchToHttp().getResponse<FastifyReply>().status(result.status);
        return result.body;
      }),
    );
  }
}
