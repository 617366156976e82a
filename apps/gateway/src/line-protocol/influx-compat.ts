import type { FastifyInstance } from 'fastify';
import { INFLUX_V1_WRITE } from '../auth/api-key.guard.js';

export const INFLUX_V2_WRITE = '/api/v2/write';
const LINE_PROTOCOL = 'application/x-plexus-line-protocol';

/** InfluxDB 2's error codes by HTTP status (its API's `code` field). */
const V2_CODES: Record<number, string> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  408: 'invalid',
  413: 'request too large',
  415: 'invalid',
  429: 'too many requests',
  503: 'unavailable',
};

/**
 * What InfluxDB clients expect around the write routes:
 * - any Content-Type (curl sends form-urlencoded, some clients none or octet-stream): the body
 *   is read as text, as InfluxDB does;
 * - errors in InfluxDB's shapes — `{"code","message"}` on /api/v2/write (the client libraries
 *   print `message`), `{"error"}` on /write (Telegraf prints `error`) — for every refusal,
 *   including those made before the handler (API key, scope, size).
 */
export function influxCompatibility(fastify: FastifyInstance, bodyLimit: number): void {
  // Its own media type, set only on these routes: every other route still refuses plain text (415).
  fastify.addContentTypeParser(LINE_PROTOCOL, { parseAs: 'string', bodyLimit }, (_request, body, done) => done(null, body));
  fastify.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    if (route === INFLUX_V2_WRITE || route === INFLUX_V1_WRITE) request.headers['content-type'] = LINE_PROTOCOL;
    done();
  });
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const route = request.routeOptions.url;
    if ((route !== INFLUX_V2_WRITE && route !== INFLUX_V1_WRITE) || reply.statusCode < 400 || typeof payload !== 'string') {
      done(null, payload);
      return;
    }
    let body: { message?: unknown; code?: unknown; error?: unknown; line?: unknown };
    try {
      body = JSON.parse(payload) as typeof body;
    } catch {
      done(null, payload);
      return;
    }
    // Already in InfluxDB's shape (a partial write answered by the handler).
    if (
      (route === INFLUX_V2_WRITE && typeof body.line === 'number') ||
      (route === INFLUX_V1_WRITE && body.code === undefined && typeof body.error === 'string')
    ) {
      done(null, payload);
      return;
    }
    const message = typeof body.message === 'string' ? body.message : String(body.error ?? 'error');
    const status = reply.statusCode;
    const shaped =
      route === INFLUX_V2_WRITE
        ? { code: V2_CODES[status] ?? (status >= 500 ? 'internal error' : 'invalid'), message }
        : { error: message };
    done(null, JSON.stringify(shaped));
  });
}
