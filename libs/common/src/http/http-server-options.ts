import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyHttpOptions, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './error-body.js';
import type { HttpLimits } from './http-limits.js';

/** How often Node checks for requests past their headers/request timeout. */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/** Fastify server options that bound time: request, headers, keep-alive and idle timeouts. */
export function boundedServerOptions(limits: HttpLimits): FastifyHttpOptions<Server> {
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    http: {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, limits.headersTimeoutMs),
    },
    clientErrorHandler: answerClientError,
    // The router's own refusals (a malformed percent-encoding, an over-long parameter) are
    // answered before any error handler exists for them; without this they would quote the path.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
      const message = status === 414 ? 'a path parameter is too long' : 'the URL is malformed (bad percent-encoding)';
      void reply.code(status).send(errorBody(status, message, undefined, 'BAD_REQUEST'));
    },
  };
}

/**
 * Errors Node raises before a request reaches Fastify (a request that did not arrive in time,
 * oversized headers, malformed HTTP): answered in the platform's error shape, then the socket
 * is closed. Nothing is written when an answer is already under way on the socket.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? errorBody(408, 'the request did not arrive in time', undefined, 'REQUEST_TIMEOUT')
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? errorBody(431, 'the request headers are too large', undefined, 'BAD_REQUEST')
          : errorBody(400, 'malformed HTTP request', undefined, 'BAD_REQUEST');
    const json = JSON.stringify(body);
    // Ended, not destroyed at once, so the answer is flushed before the socket goes.
    socket.end(
      `HTTP/1.1 ${body.statusCode} ${body.error}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
      () => socket.destroy(),
    );
    return;
  }
  socket.destroy();
}
