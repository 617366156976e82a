import { startApp } from '#common';
import { AppModule } from './app.module.js';
import { readIngestConfig } from './config.js';

// The same reader as the app's ConfigModule: the port and logs are set before Nest exists.
const config = readIngestConfig();
await startApp({ name: 'ingest', module: AppModule, config, port: config.httpPort, microservice: true });
