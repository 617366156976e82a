import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { correlationIdOf } from './correlation.js';
import { DomainError, type ErrorDetail } from '../errors.js';
import { errorBody, type ErrorBody } from './error-body.js';

/**
 * Maps every error to the contract's JSON shape: DomainErrors by code, Nest and Fastify
 * errors by their status, anything else to a 500 whose correlation id is logged.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { body, retryAfter } = this.describe(error, correlationIdOf(host.switchToHttp().getRequest<FastifyRequest>()));
    if (retryAfter !== undefined) void reply.header('Retry-After', String(retryAfter));
    void reply.status(body.statusCode).send(body);
  }

  describe(error: unknown, correlationId: string = randomUUID()): { body: ErrorBody; retryAfter?: number } {
    if (error instanceof DomainError) {
      const retryAfter = error.retryAfterSeconds ?? (error.status === 503 ? 1 : undefined);
      return { body: errorBody(error.status, error.message, error.details), retryAfter };
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const response = error.getResponse();
      const raw = typeof response === 'object' && response !== null ? (response as { message?: unknown }).message : response;
      if (Array.isArray(raw)) {
        const details: ErrorDetail[] = raw.map((message) => ({ field: String(message).split(' ')[0], message: String(message) }));
        return { body: errorBody(status, raw.join('; '), details) };
      }
      return { body: errorBody(status, typeof raw === 'string' ? raw : error.message) };
    }
    const fastifyStatus = (error as { statusCode?: unknown })?.statusCode;
    if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
      return { body: errorBody(fastifyStatus, (error as Error).message) };
    }
    this.logger.error({ message: 'unhandled error', correlation_id: correlationId, error: (error as Error)?.stack ?? String(error) });
    return { body: errorBody(500, `internal error; correlation id ${correlationId}`) };
  }
}
