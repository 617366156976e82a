import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export const CORRELATION_HEADER = 'x-correlation-id';
const VALID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's correlation id: the caller's `x-correlation-id` when sane, else a fresh one. */
export function correlationIdOf(request: FastifyRequest): string {
  return (request as FastifyRequest & { correlationId?: string }).correlationId ?? 'unknown';
}

/**
 * Gives every request a correlation id, echoed in the answer's `x-correlation-id`; the gateway
 * carries it in NATS headers to the ingest app, so one id follows a request through the logs.
 */
export function assignCorrelationIds(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const offered = request.headers[CORRELATION_HEADER];
    const id = typeof offered === 'string' && VALID.test(offered) ? offered : randomUUID();
    (request as FastifyRequest & { correlationId?: string }).correlationId = id;
    void reply.header(CORRELATION_HEADER, id);
    done();
  });
}
