import compress from '@fastify/compress';
import { INGEST_LIMITS, METRICS, startApp } from '#common';
import { checkCredentialsBeforeBody } from './auth/early-credentials.js';
import { KeyVerifier } from './auth/key-verifier.service.js';
import { serveOpenApi } from './openapi.js';
import { refuseOversizedBodies } from './oversized-bodies.js';
import { AppModule } from './app.module.js';
import { config } from './config.js';

/** Set once the Nest app is up; the early credential check waits for nothing until then. */
let keyVerifier: KeyVerifier | undefined;

await startApp({
  name: 'gateway',
  module: AppModule,
  port: config.port,
  host: config.host,
  // Counted after decompression, so a small gzip body cannot expand past the limit.
  bodyLimit: INGEST_LIMITS.maxBodyBytes,
  httpLimits: config.http,
  rawBody: true,
  microservice: true,
  // X-Forwarded-For is believed only from these (the pairing guess limit counts per client address).
  trustProxy: config.trustedProxies,
  configureApp: (app) => {
    keyVerifier = app.get(KeyVerifier);
    serveOpenApi(app);
  },
  configureFastify: async (fastify) => {
    checkCredentialsBeforeBody(fastify, () => keyVerifier);
    refuseOversizedBodies(fastify, INGEST_LIMITS.maxBodyBytes);
    // Counted here, not in the controller, so refusals before it (401, 403, 413) count too.
    fastify.addHook('onResponse', (request, reply, done) => {
      if (request.method === 'POST' && request.routeOptions.url === '/api/ingest') METRICS.ingestRequests.inc({ status: reply.statusCode });
      done();
    });
    await fastify.register(compress, { requestEncodings: ['gzip', 'deflate'], encodings: ['gzip'], threshold: 4096 });
  },
});
