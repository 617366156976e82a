import type { FastifyInstance } from 'fastify';
import { DomainError, hasScope, type Scope } from '#common';
import { apiKeyFrom } from './api-key.guard.js';
import type { KeyVerifier } from './key-verifier.service.js';

/** Fastify route config set by RequireScope, readable before the body is. */
export interface ScopedRouteConfig {
  requiredScope?: Scope;
}

/**
 * Checks the API key and scope of a guarded route in `onRequest`, before the body is read, so a
 * request without a valid credential is answered 401/403 at once instead of holding a socket
 * while it trickles a body. The guard still checks (from the verifier's cache) for every route.
 * The answer closes the connection: the unread body must not be taken for the next request.
 */
export function checkCredentialsBeforeBody(fastify: FastifyInstance, verifier: () => KeyVerifier | undefined): void {
  fastify.addHook('onRequest', async (request, reply) => {
    const scope = (request.routeOptions.config as ScopedRouteConfig | undefined)?.requiredScope;
    if (!scope) return;
    try {
      const apiKey = apiKeyFrom(request.headers as Record<string, string | undefined>);
      if (!apiKey) throw new DomainError('UNAUTHORIZED', 'missing API key: send it in the x-api-key header');
      const keys = verifier();
      if (!keys) return;
      const principal = await keys.verify(apiKey);
      if (!hasScope(principal.scopes, scope)) throw new DomainError('SCOPE_MISSING', `this API key lacks the "${scope}" scope`);
    } catch (error) {
      if (!(error instanceof DomainError) || error.status !== 503) void reply.header('connection', 'close');
      throw error;
    }
  });
}
