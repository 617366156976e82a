import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiSecurity } from '@nestjs/swagger';
import type { Principal, Scope } from '#common';

export const REQUIRED_SCOPE = 'plexus:required-scope';

/**
 * The scope a route needs; routes without it need no credential. Put it on each handler: the
 * Fastify route config (read before the body, see early-credentials.ts) is per handler.
 */
export const RequireScope = (scope: Scope) =>
  applyDecorators(SetMetadata(REQUIRED_SCOPE, scope), RouteConfig({ requiredScope: scope }), ApiSecurity(API_KEY_SECURITY, [scope]));

/** The OpenAPI name of the `x-api-key` credential. */
export const API_KEY_SECURITY = 'api-key';

/** The verified caller of a route guarded by RequireScope. */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest<{ principal: Principal }>().principal,
);
