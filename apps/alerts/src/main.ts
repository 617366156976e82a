import { startApp } from '#common';
import { AppModule } from './app.module.js';
import { readAlertsConfig } from './config.js';

// The same reader as the app's ConfigModule: the port and logs are set before Nest exists.
const config = readAlertsConfig();
await startApp({ name: 'alerts', module: AppModule, config, port: config.httpPort, microservice: true });
