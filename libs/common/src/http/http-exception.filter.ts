import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { correlationIdOf } from './correlation.js';
import { DomainError, type ErrorCode, type ErrorDetail } from '../errors.js';
import { METRICS } from '../metrics/metrics.js';
import { codeForStatus, errorBody, type ErrorBody } from './error-body.js';

/**
 * Fastify's own errors whose message would quote the request (a whole path) or say less than
 * it should: each gets its code and a fixed message.
 */
const FASTIFY_ERRORS: Record<string, { code: ErrorCode; message?: string }> = {
  FST_ERR_BAD_URL: { code: 'BAD_REQUEST', message: 'the URL is malformed (bad percent-encoding)' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'BAD_REQUEST', message: 'a path parameter is too long' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'unsupported Content-Type: send application/json' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'BAD_REQUEST', message: 'Content-Length does not match the body' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_BODY', message: 'the body is empty but Content-Type is application/json' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_BODY' },
};

/**
 * Maps every error to the contract's JSON shape: DomainErrors by code, Nest and Fastify
 * errors by their status, anything else to a 500 whose correlation id is logged and counted.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { body, retryAfter } = this.describe(error, correlationIdOf(host.switchToHttp().getRequest<FastifyRequest>()));
    if (retryAfter !== undefined) void reply.header('Retry-After', String(retryAfter));
    // An answer already under way (a stream that failed midway) cannot change its status.
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    void reply.status(body.statusCode).send(body);
  }

  describe(error: unknown, correlationId: string = randomUUID()): { body: ErrorBody; retryAfter?: number } {
    if (error instanceof DomainError) {
      const retryAfter = error.retryAfterSeconds ?? (error.status === 503 ? 1 : undefined);
      if (error.status >= 500 && error.status !== 503) return { body: this.unexpected(error, correlationId, error.message) };
      return { body: errorBody(error.status, error.message, error.details, error.code), retryAfter };
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      if (status >= 500 && status !== 503) return { body: this.unexpected(error, correlationId) };
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
      const known = FASTIFY_ERRORS[String((error as { code?: unknown }).code)];
      const message = known?.message ?? (error as Error).message;
      return { body: errorBody(fastifyStatus, message, undefined, known?.code ?? codeForStatus(fastifyStatus)) };
    }
    return { body: this.unexpected(error, correlationId) };
  }

  /** A 500: logged with the correlation id the client sees, and counted for alerting. */
  private unexpected(error: unknown, correlationId: string, reason = 'internal error'): ErrorBody {
    METRICS.unexpectedErrors.inc({ where: 'http' });
    this.logger.error({ message: 'unhandled error', correlation_id: correlationId, error: (error as Error)?.stack ?? String(error) });
    return errorBody(500, `${reason}; correlation id ${correlationId}`, undefined, 'INTERNAL');
  }
}
