import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError, hasScope, type Principal, type Scope } from '#common';
import { REQUIRED_SCOPE } from './auth.decorators.js';
import { KeyVerifier } from './key-verifier.service.js';

/** Reads the API key from `x-api-key` (or `Authorization: Bearer`), verifies it, checks the route's scope. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: KeyVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const scope = this.reflector.getAllAndOverride<Scope | undefined>(REQUIRED_SCOPE, [context.getHandler(), context.getClass()]);
    if (!scope) return true;
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; principal?: Principal }>();
    const apiKey = apiKeyFrom(request.headers);
    if (!apiKey) throw new DomainError('UNAUTHORIZED', 'missing API key: send it in the x-api-key header');
    const principal = await this.verifier.verify(apiKey);
    if (!hasScope(principal.scopes, scope)) {
      throw new DomainError('SCOPE_MISSING', `this API key lacks the "${scope}" scope`);
    }
    request.principal = principal;
    return true;
  }
}

export function apiKeyFrom(headers: Record<string, string | undefined>): string | undefined {
  const direct = headers['x-api-key']?.trim();
  if (direct) return direct;
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '');
  return bearer?.[1];
}
