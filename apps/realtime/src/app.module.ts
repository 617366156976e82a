import { Module } from '@nestjs/common';
import { BrokerModule, ConfigModule, HealthModule, MetricsModule, ServicesClientModule, TelemetryPublisher } from '#common';
import { RealtimeConfig, readRealtimeConfig } from './config.js';
import { BrowserHub } from './browsers/browser-hub.service.js';
import { CommandRouter } from './commands/command-router.service.js';
import { DeviceHub } from './devices/device-hub.service.js';
import { DeviceSession } from './devices/device-session.service.js';
import { Recorder } from './devices/recorder.service.js';
import { PresenceLease } from './presence/presence-lease.service.js';
import { ActiveRecordings } from './recordings/active-recordings.service.js';
import { Authenticator } from './sockets/authenticator.service.js';
import { DisabledOrgs } from './sockets/disabled-orgs.service.js';
import { SocketServer } from './sockets/socket-server.service.js';
import { StatsController } from './sockets/stats.controller.js';

@Module({
  imports: [
    ConfigModule.forApp(RealtimeConfig, () => readRealtimeConfig()),
    BrokerModule.forRoot('realtime'),
    ServicesClientModule,
    MetricsModule.forApp('realtime'),
    HealthModule.forRoot({ database: false }),
  ],
  controllers: [StatsController],
  providers: [
    TelemetryPublisher,
    Authenticator,
    PresenceLease,
    DeviceHub,
    BrowserHub,
    ActiveRecordings,
    DeviceSession,
    Recorder,
    CommandRouter,
    DisabledOrgs,
    SocketServer,
  ],
})
export class AppModule {}
