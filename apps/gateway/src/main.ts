import compress from '@fastify/compress';
import { INGEST_LIMITS, METRICS, startApp } from '#common';
import { serveOpenApi } from './openapi.js';
import { refuseOversizedBodies } from './oversized-bodies.js';
import { AppModule } from './app.module.js';
import { config } from './config.js';

await startApp({
  name: 'gateway',
  module: AppModule,
  port: config.port,
  host: config.host,
  // Counted after decompression, so a small gzip body cannot expand past the limit.
  bodyLimit: INGEST_LIMITS.maxBodyBytes,
  rawBody: true,
  microservice: true,
  // X-Forwarded-For is believed only from these (the pairing guess limit counts per client address).
  trustProxy: config.trustedProxies,
  configureApp: serveOpenApi,
  configureFastify: async (fastify) => {
    refuseOversizedBodies(fastify, INGEST_LIMITS.maxBodyBytes);
    // Counted here, not in the controller, so refusals before it (401, 403, 413) count too.
    fastify.addHook('onResponse', (request, reply, done) => {
      if (request.method === 'POST' && request.routeOptions.url === '/api/ingest') METRICS.ingestRequests.inc({ status: reply.statusCode });
      done();
    });
    await fastify.register(compress, { requestEncodings: ['gzip', 'deflate'], encodings: ['gzip'], threshold: 4096 });
  },
});
