import { startApp } from '#common';
import { AppModule } from './app.module.js';
import { config } from './config.js';

await startApp({ name: 'ingest', module: AppModule, port: config.httpPort, microservice: true });
