import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ERROR_STATUS } from '#common';
import { API_KEY_SECURITY } from './auth/auth.decorators.js';
import { PLEXUS_VERSION } from './version.js';

/**
 * The OpenAPI document, generated from the controllers (routes, parameters, DTOs, which scope
 * each route needs), served as JSON at `GET /api/docs`.
 */
export function serveOpenApi(app: NestFastifyApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Plexus API')
      .setDescription(
        'Telemetry ingest, sessions, queries, pairing, sources and keys. Errors are { statusCode, error, code, message, details? } ' +
          '(components.schemas.Error); code is stable and upper-case, e.g. INVALID_BODY, UNAUTHORIZED, SCOPE_MISSING, NOT_FOUND, PAYLOAD_TOO_LARGE.',
      )
      .setVersion(PLEXUS_VERSION)
      .addApiKey({ type: 'apiKey', name: 'x-api-key', in: 'header' }, API_KEY_SECURITY)
      .build(),
  );
  describeErrors(document);
  app
    .getHttpAdapter()
    .getInstance()
    .get('/api/docs', (_request, reply) => {
      void reply.type('application/json; charset=utf-8').send(document);
    });
}

/** The error shape, and a default (error) response naming it on every operation. */
function describeErrors(document: ReturnType<typeof SwaggerModule.createDocument>): void {
  document.components = document.components ?? {};
  document.components.schemas = {
    ...document.components.schemas,
    Error: {
      type: 'object',
      required: ['statusCode', 'error', 'code', 'message'],
      properties: {
        statusCode: { type: 'integer', example: 400 },
        error: { type: 'string', example: 'Bad Request' },
        code: { type: 'string', enum: Object.keys(ERROR_STATUS), example: 'INVALID_BODY' },
        message: { type: 'string', example: 'points[3].tags.k must be valid Unicode (no lone surrogates)' },
        details: {
          type: 'array',
          items: {
            type: 'object',
            required: ['field', 'message'],
            properties: { index: { type: 'integer' }, field: { type: 'string' }, message: { type: 'string' } },
          },
        },
      },
    },
  };
  for (const operations of Object.values(document.paths)) {
    for (const operation of Object.values(operations) as Array<{ responses?: Record<string, unknown> }>) {
      if (typeof operation !== 'object' || operation === null || !('responses' in operation)) continue;
      operation.responses = {
        ...operation.responses,
        default: {
          description: 'An error: { statusCode, error, code, message, details? }',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      };
    }
  }
}
