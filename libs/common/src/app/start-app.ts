import 'reflect-metadata';
import { ConsoleLogger, Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { LOG_LEVELS, type SharedConfig } from '../config/shared-config.js';
import { natsConnectionOptions } from '../nats/connection-options.js';
import { ExternalRequestDeserializer } from '../nats/external-requests.js';
import { assignCorrelationIds } from '../http/correlation.js';
import { HttpErrorFilter } from '../http/http-exception.filter.js';
import { HTTP_LIMIT_DEFAULTS, type HttpLimits } from '../http/http-limits.js';
import { boundedServerOptions } from '../http/http-server-options.js';
import { depthBoundedJsonParser, type JsonFastPath } from '../http/json-body-parser.js';
import { RequestValidationPipe } from '../http/request-validation.pipe.js';
import { WithStatusInterceptor } from '../http/with-status.js';
import { guardProcess } from './process-guard.js';

export interface StartAppOptions {
  name: string;
  module: unknown;
  /** The app's config, read by main.ts with the same function its ConfigModule uses (logs and NATS are set up before Nest). */
  config: SharedConfig;
  port: number;
  host?: string;
  bodyLimit?: number;
  /** Timeouts and JSON depth; defaults in HTTP_LIMIT_DEFAULTS. */
  httpLimits?: HttpLimits;
  /** Listen for NATS request/reply and events through @nestjs/microservices. */
  microservice?: boolean;
  /** Proxies (IPs/CIDRs) whose X-Forwarded-For sets `request.ip`; empty or absent: the socket's address. */
  trustProxy?: string[];
  /** Reads JSON bodies of some routes on a fast path before the general parser (json-body-parser.ts). */
  jsonFastPath?: JsonFastPath;
  /** Runs on the Fastify instance before routes are registered (plugins, parsers). */
  configureFastify?: (fastify: FastifyInstance) => Promise<void> | void;
  /** Runs on the Nest app once its modules are up, before it listens (e.g. to describe its routes). */
  configureApp?: (app: NestFastifyApplication) => Promise<void> | void;
}

/**
 * Starts one Plexus app: Fastify HTTP (health, and the API where the app has one),
 * optionally a NATS microservice, graceful shutdown on SIGTERM/SIGINT.
 */
export async function startApp(options: StartAppOptions): Promise<INestApplication> {
  const logger = new Logger(options.name);
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  const httpLimits = options.httpLimits ?? HTTP_LIMIT_DEFAULTS;
  const adapter = new FastifyAdapter({
    bodyLimit,
    ...boundedServerOptions(httpLimits),
    ...(options.trustProxy?.length ? { trustProxy: options.trustProxy } : {}),
  });
  const app = await NestFactory.create<NestFastifyApplication>(options.module as never, adapter, {
    logger: new ConsoleLogger(options.name, {
      json: options.config.logFormat === 'json',
      logLevels: LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(options.config.logLevel) + 1),
    }),
    abortOnError: false,
  });
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  app.useBodyParser('application/json', { bodyLimit }, depthBoundedJsonParser(fastify, httpLimits.maxJsonDepth, options.jsonFastPath));
  // No route takes plain text: such a body is 415, not a string handed to a DTO.
  fastify.removeContentTypeParser('text/plain');
  assignCorrelationIds(fastify);
  await options.configureFastify?.(fastify);
  // Nest routes Fastify's own errors (body too large, bad JSON) through this filter too.
  app.useGlobalFilters(new HttpErrorFilter());
  app.useGlobalInterceptors(new WithStatusInterceptor());
  app.useGlobalPipes(new RequestValidationPipe());
  if (options.microservice) {
    app.connectMicroservice<MicroserviceOptions>({
      transport: Transport.NATS,
      options: {
        ...natsConnectionOptions(options.config.nats, `plexus-${options.name}-rpc`),
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        waitOnFirstConnect: true,
        gracefulShutdown: true,
        gracePeriod: 1000,
        deserializer: new ExternalRequestDeserializer(),
      },
    });
    await app.startAllMicroservices();
  }
  await options.configureApp?.(app);
  await app.listen(options.port, options.host ?? '0.0.0.0');
  logger.log(`${options.name} listening on http://127.0.0.1:${options.port}`);
  stopGracefully(app, logger);
  // Only once serving: a failure to start must still end the process (the supervisor restarts it).
  guardProcess();
  return app;
}

/** How long a graceful stop may take before the process gives up and exits anyway. */
const STOP_DEADLINE_MS = 25_000;

/**
 * SIGTERM/SIGINT: stop taking work, finish what is in hand (HTTP requests complete, the ingest
 * writers commit and ack their batches, sockets close with 1001), then exit 0. Nest's own
 * shutdown hooks would re-raise the signal instead, hiding whether the stop was clean.
 */
function stopGracefully(app: INestApplication, logger: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: stopping`);
    const deadline = setTimeout(() => {
      logger.error(`did not stop within ${STOP_DEADLINE_MS} ms; exiting`);
      process.exit(1);
    }, STOP_DEADLINE_MS);
    deadline.unref();
    app.close().then(
      () => {
        logger.log('stopped cleanly');
        process.exit(0);
      },
      (error: Error) => {
        logger.error(`stopping failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
