import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
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
      .setDescription('Telemetry ingest, sessions, queries, pairing, sources and keys. Errors are { statusCode, error, message, details? }.')
      .setVersion(PLEXUS_VERSION)
      .addApiKey({ type: 'apiKey', name: 'x-api-key', in: 'header' }, API_KEY_SECURITY)
      .build(),
  );
  app
    .getHttpAdapter()
    .getInstance()
    .get('/api/docs', (_request, reply) => {
      void reply.type('application/json; charset=utf-8').send(document);
    });
}
