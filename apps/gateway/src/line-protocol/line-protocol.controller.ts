import { Body, Controller, Headers, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { correlationIdOf, DomainError, type Precision, type Principal } from '#common';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators.js';
import { type LineProtocolWrite, LineProtocolWriter } from './line-protocol-writer.service.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7E]{1,256}$/;
const V2_PRECISIONS: Record<string, Precision> = { ns: 'ns', us: 'us', ms: 'ms', s: 's' };
const V1_PRECISIONS: Record<string, Precision> = { n: 'ns', ns: 'ns', u: 'us', us: 'us', µ: 'us', ms: 'ms', s: 's' };
const TRUE = /^(1|true|yes)$/i;

/**
 * InfluxDB's write APIs on the gateway, so InfluxDB clients (Telegraf, Home Assistant, Node-RED,
 * the client libraries) write to Plexus unmodified: `POST /api/v2/write` (InfluxDB 2) and
 * `POST /write` (InfluxDB 1). 204 once JetStream stored the points; errors in InfluxDB's JSON
 * shapes (influx-compat.ts), a body with some bad lines written as InfluxDB does (docs/influxdb.md).
 */
@Controller()
export class LineProtocolController {
  constructor(private readonly writer: LineProtocolWriter) {}

  @Post('api/v2/write')
  @HttpCode(204)
  @RequireScope('write')
  @ApiExcludeEndpoint()
  async writeV2(
    @Body() body: unknown,
    @Query() query: Record<string, unknown>,
    @Req() request: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<{ code: string; message: string; line?: number } | undefined> {
    const precision = choose(query.precision, V2_PRECISIONS, 'ns', 'ns, us, ms or s');
    const sessionId = TRUE.test(text(query.bucket_is_session)) ? sessionFrom(query.bucket, 'bucket') : undefined;
    const result = await this.write(principal, body, { precision, sessionId, sourceTag: sourceTag(query) }, request, idempotencyKey);
    if (!result.errors.length) return undefined;
    void reply.status(400);
    return { code: 'invalid', message: partialWriteMessage(result), line: result.errors[0].line };
  }

  @Post('write')
  @HttpCode(204)
  @RequireScope('write')
  @ApiExcludeEndpoint()
  async writeV1(
    @Body() body: unknown,
    @Query() query: Record<string, unknown>,
    @Req() request: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<{ error: string } | undefined> {
    const precision = choose(query.precision, V1_PRECISIONS, 'ns', 'n, u, ms or s');
    const sessionId = TRUE.test(text(query.db_is_session)) ? sessionFrom(query.db, 'db') : undefined;
    const result = await this.write(principal, body, { precision, sessionId, sourceTag: sourceTag(query) }, request, idempotencyKey);
    if (!result.errors.length) return undefined;
    void reply.status(400);
    return { error: partialWriteMessage(result) };
  }

  private async write(
    principal: Principal,
    body: unknown,
    options: { precision: Precision; sessionId?: string; sourceTag?: string },
    request: FastifyRequest,
    idempotencyKey: string | undefined,
  ): Promise<LineProtocolWrite> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new DomainError('BAD_REQUEST', 'Idempotency-Key must be 1 to 256 printable ASCII characters');
    }
    const lines = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : '';
    // A test, not trim(): no copy of a 5 MiB body.
    if (!/\S/.test(lines))
      throw new DomainError('INVALID_BODY', 'the body holds no line protocol: send one point per line, e.g. "temp,host=rig-1 value=21.5"');
    const result = await this.writer.write(principal.org_id, lines, options, { idempotencyKey, correlationId: correlationIdOf(request) });
    if (!result.written && result.errors.length) {
      throw new DomainError('INVALID_BODY', partialWriteMessage(result), [
        { field: `line ${result.errors[0].line}`, message: result.errors[0].message },
      ]);
    }
    return result;
  }
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function choose<T>(value: unknown, allowed: Record<string, T>, fallback: string, described: string): T {
  const name = value === undefined ? fallback : text(value);
  const chosen = Object.prototype.hasOwnProperty.call(allowed, name) ? allowed[name] : undefined;
  if (chosen === undefined)
    throw new DomainError('BAD_REQUEST', `precision must be ${described}`, [{ field: 'precision', message: `must be ${described}` }]);
  return chosen;
}

function sourceTag(query: Record<string, unknown>): string | undefined {
  const tag = query.source_tag;
  if (tag === undefined) return undefined;
  if (typeof tag !== 'string' || !tag || tag.length > 128)
    throw new DomainError('BAD_REQUEST', 'source_tag must name a tag (1 to 128 characters)');
  return tag;
}

function sessionFrom(value: unknown, name: string): string {
  const session = text(value);
  if (!session)
    throw new DomainError('BAD_REQUEST', `${name} must be given to be used as the session id`, [{ field: name, message: 'is required' }]);
  return session;
}

/** InfluxDB's partial-write answer, naming the first refused lines. */
export function partialWriteMessage(result: LineProtocolWrite): string {
  const shown = result.errors.slice(0, 3).map((e) => `line ${e.line}: ${e.message}`);
  const more = result.refusedLines - shown.length;
  const what = result.written
    ? `partial write: ${result.written} points written, ${result.refusedLines} lines refused`
    : `unable to parse: ${result.refusedLines} lines refused, nothing written`;
  return `${what}; ${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}
