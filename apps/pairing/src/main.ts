import { startApp } from '#common';
import { AppModule } from './app.module.js';
import { config } from './config.js';

await startApp({ name: 'pairing', module: AppModule, port: config.httpPort, microservice: true });
