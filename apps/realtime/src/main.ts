import { startApp } from '#common';
import { AppModule } from './app.module.js';
import { config } from './config.js';

await startApp({ name: 'realtime', module: AppModule, port: config.port });
