import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError, hasScope, type Principal, type Scope } from '#common';
import { REQUIRED_SCOPE } from './auth.decorators.js';
import { KeyVerifier } from './key-verifier.service.js';

/**
 * Reads the API key (apiKeyOf), verifies it, checks the route's scope.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: KeyVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const scope = this.reflector.getAllAndOverride<Scope | undefined>(REQUIRED_SCOPE, [context.getHandler(), context.getClass()]);
    if (!scope) return true;
    const request = context.switchToHttp().getRequest<CredentialSource & { principal?: Principal }>();
    const apiKey = apiKeyOf(request);
    if (!apiKey) throw new DomainError('UNAUTHORIZED', 'missing API key: send it in the x-api-key header');
    const principal = await this.verifier.verify(apiKey);
    if (!hasScope(principal.scopes, scope)) {
      throw new DomainError('SCOPE_MISSING', `this API key lacks the "${scope}" scope`);
    }
    request.principal = principal;
    return true;
  }
}

/**
 * The API key of a request's headers: `x-api-key`, or `Authorization: Bearer <key>`, or
 * `Authorization: Token <key>` (InfluxDB 2 clients).
 */
export function apiKeyFrom(headers: Record<string, string | undefined>): string | undefined {
  const direct = headers['x-api-key']?.trim();
  if (direct) return direct;
  const scheme = /^(?:Bearer|Token)\s+(\S+)$/i.exec(headers.authorization ?? '');
  return scheme?.[1];
}

/** The InfluxDB 1 write route, whose clients also send the key as `p=` or Basic auth's password. */
export const INFLUX_V1_WRITE = '/write';

export interface CredentialSource {
  headers: Record<string, string | string[] | undefined>;
  query?: unknown;
  routeOptions?: { url?: string };
}

/**
 * The API key of a request: apiKeyFrom for every route; on InfluxDB 1's `/write` also the `p`
 * query parameter and the password of `Authorization: Basic` (the user name is ignored), as
 * InfluxDB 1 clients (Telegraf's `influxdb` output, Home Assistant, Node-RED) send it.
 */
export function apiKeyOf(request: CredentialSource): string | undefined {
  const headers = request.headers as Record<string, string | undefined>;
  const key = apiKeyFrom(headers);
  if (key || request.routeOptions?.url !== INFLUX_V1_WRITE) return key;
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(headers.authorization ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const password = decoded.slice(decoded.indexOf(':') + 1);
    if (decoded.includes(':') && password) return password;
  }
  const p = (request.query as Record<string, unknown> | undefined)?.p;
  return typeof p === 'string' && p ? p : undefined;
}
