import { startApp } from '#common';
import { AppModule } from './app.module.js';
import { readRealtimeConfig } from './config.js';

// The same reader as the app's ConfigModule: the port and logs are set before Nest exists.
const config = readRealtimeConfig();
await startApp({ name: 'realtime', module: AppModule, config, port: config.port });
