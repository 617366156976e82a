import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { DomainError, hasScope, type Scope } from '#common';
import { apiKeyOf } from './api-key.guard.js';
import type { KeyVerifier } from './key-verifier.service.js';

/** Fastify route config set by RequireScope, readable before the body is. */
export interface ScopedRouteConfig {
  requiredScope?: Scope;
}

/**
 * Checks the API key and scope of a guarded route in `onRequest`, before the body is read, so a
 * request without a valid credential is answered 401/403 at once instead of holding a socket
 * while it trickles a body. The guard still checks (from the verifier's cache) for every route.
 * The body of a refused request is dropped, and no longer than LINGER_MS is waited for it.
 */
export function checkCredentialsBeforeBody(fastify: FastifyInstance, verifier: () => KeyVerifier | undefined): void {
  fastify.addHook('onRequest', async (request) => {
    const scope = (request.routeOptions.config as ScopedRouteConfig | undefined)?.requiredScope;
    if (!scope) return;
    try {
      const apiKey = apiKeyOf(request);
      if (!apiKey) throw new DomainError('UNAUTHORIZED', 'missing API key: send it in the x-api-key header');
      const keys = verifier();
      if (!keys) return;
      const principal = await keys.verify(apiKey);
      if (!hasScope(principal.scopes, scope)) throw new DomainError('SCOPE_MISSING', `this API key lacks the "${scope}" scope`);
    } catch (error) {
      if (!(error instanceof DomainError) || error.status !== 503) lingerThenClose(request.raw);
      throw error;
    }
  });
}

/** How long a refused request's body may still arrive (and be dropped) after the answer. */
const LINGER_MS = 2000;

/**
 * A lingering close, as web servers do it: Node reads and drops the body of a request answered
 * before it was read, so a client that sends its whole body at once sees the 401 (closing with
 * the body unread would make the kernel reset the connection, and most clients then report
 * "connection reset" instead). A body still arriving LINGER_MS after the answer — a trickle —
 * is not waited for: the socket is destroyed.
 */
function lingerThenClose(raw: IncomingMessage): void {
  if (raw.complete) return;
  const socket = raw.socket;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  raw.once('end', () => clearTimeout(timer));
  socket.once('close', () => clearTimeout(timer));
}
