import { Body, Controller, Headers, HttpCode, Logger, Post, Req } from '@nestjs/common';
import { ApiBody, ApiHeader } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import {
  correlationIdOf,
  DomainError,
  ingestBodySchema,
  METRICS,
  type Principal,
  ScannedIngestBody,
  TelemetryPublisher,
  validateIngestBody,
} from '#common';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7E]{1,256}$/;

@Controller('api/ingest')
export class IngestController {
  private readonly logger = new Logger(IngestController.name);

  constructor(private readonly publisher: TelemetryPublisher) {}

  /**
   * Validates the whole body with a compiled schema (the first bad point is named by index
   * and field), then stores its points in JetStream in the binary form, grouped by series.
   */
  @Post()
  @HttpCode(200)
  @RequireScope('write')
  @ApiBody({
    schema: ingestBodySchema as unknown as Record<string, unknown>,
    description: 'Whole request accepted or rejected; ≤ 10,000 points, ≤ 5 MiB (gzip accepted)',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'A retried request with the same key is stored once' })
  async ingest(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<{ success: true; accepted: number }> {
    try {
      const accepted = await this.accept(body, request, principal, idempotencyKey);
      this.logger.debug({
        message: 'ingest accepted',
        correlation_id: correlationIdOf(request),
        org_id: principal.org_id,
        points: accepted,
      });
      METRICS.ingestPointsAccepted.inc(accepted);
      return { success: true, accepted };
    } catch (error) {
      const points = body instanceof ScannedIngestBody ? body.points : (body as { points?: unknown })?.points;
      const count = typeof points === 'number' ? points : Array.isArray(points) ? points.length : 0;
      if (count) METRICS.ingestPointsRejected.inc(count);
      throw error;
    }
  }

  private async accept(body: unknown, request: FastifyRequest, principal: Principal, idempotencyKey: string | undefined): Promise<number> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new DomainError('BAD_REQUEST', 'Idempotency-Key must be 1 to 256 printable ASCII characters', [
        { field: 'Idempotency-Key', message: 'must be 1 to 256 printable ASCII characters' },
      ]);
    }
    const options = { idempotencyKey, correlationId: correlationIdOf(request) };
    // Read and checked by the body parser's fast path (ingest-body-scanner.ts) already.
    if (body instanceof ScannedIngestBody) {
      await this.publisher.publishSeries(principal.org_id, body, options);
      return body.points;
    }
    const result = validateIngestBody(body);
    if (!result.ok) throw new DomainError(result.tooLarge ? 'PAYLOAD_TOO_LARGE' : 'INVALID_BODY', result.detail.message, [result.detail]);
    await this.publisher.publish(principal.org_id, { points: result.points, receivedAtUs: Date.now() * 1000 }, options);
    return result.points.length;
  }
}
