import compress from '@fastify/compress';
import { INGEST_LIMITS, METRICS, scanIngestBody, startApp } from '#common';
import { checkCredentialsBeforeBody } from './auth/early-credentials.js';
import { influxCompatibility } from './line-protocol/influx-compat.js';
import { KeyVerifier } from './auth/key-verifier.service.js';
import { serveOpenApi } from './openapi.js';
import { refuseOversizedBodies } from './oversized-bodies.js';
import { AppModule } from './app.module.js';
import { readGatewayConfig } from './config.js';

/** Routes that take telemetry (JSON, InfluxDB 2 and 1 line protocol). */
const INGEST_ROUTES = new Set(['/api/ingest', '/api/v2/write', '/write']);

/** Set once the Nest app is up; the early credential check waits for nothing until then. */
let keyVerifier: KeyVerifier | undefined;

// The same reader as the app's ConfigModule: ports, logs and HTTP limits are set before Nest exists.
const config = readGatewayConfig();

await startApp({
  name: 'gateway',
  module: AppModule,
  config,
  port: config.port,
  host: config.host,
  // Counted after decompression, so a small gzip body cannot expand past the limit.
  bodyLimit: INGEST_LIMITS.maxBodyBytes,
  httpLimits: config.http,
  microservice: true,
  // X-Forwarded-For is believed only from these (the pairing guess limit counts per client address).
  trustProxy: config.trustedProxies,
  // Plain numeric telemetry is read straight into series; anything else takes the general path.
  jsonFastPath: (url, body) => (url === '/api/ingest' ? scanIngestBody(body, Date.now() * 1000) : undefined),
  configureApp: (app) => {
    keyVerifier = app.get(KeyVerifier);
    serveOpenApi(app);
  },
  configureFastify: async (fastify) => {
    influxCompatibility(fastify, INGEST_LIMITS.maxBodyBytes);
    checkCredentialsBeforeBody(fastify, () => keyVerifier);
    refuseOversizedBodies(fastify, INGEST_LIMITS.maxBodyBytes);
    // Counted here, not in the controller, so refusals before it (401, 403, 413) count too.
    fastify.addHook('onResponse', (request, reply, done) => {
      if (request.method === 'POST' && INGEST_ROUTES.has(request.routeOptions.url ?? ''))
        METRICS.ingestRequests.inc({ status: reply.statusCode });
      done();
    });
    await fastify.register(compress, { requestEncodings: ['gzip', 'deflate'], encodings: ['gzip'], threshold: 4096 });
  },
});
