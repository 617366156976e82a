import { Module } from '@nestjs/common';
import { BrokerModule, ConfigModule, HealthModule, MetricsModule, ServicesClientModule } from '#common';
import { GatewayConfig, readGatewayConfig } from './config.js';
import { AlertsModule } from './alerts/alerts.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { IngestModule } from './ingest/ingest.module.js';
import { KeysModule } from './keys/keys.module.js';
import { LineProtocolModule } from './line-protocol/line-protocol.module.js';
import { PlatformConfigModule } from './platform-config/platform-config.module.js';
import { QueryModule } from './query/query.module.js';
import { SourcesModule } from './sources/sources.module.js';

import { SessionsModule } from './sessions/sessions.module.js';
import { SetupModule } from './setup/setup.module.js';

/** The gateway's HTTP API: every route but the dashboard's files. */
@Module({
  imports: [
    ConfigModule.forApp(GatewayConfig, () => readGatewayConfig()),
    BrokerModule.forRoot('gateway'),
    ServicesClientModule,
    MetricsModule.forApp('gateway'),
    HealthModule.forRoot({ database: false, jetstream: true }),
    AuthModule,
    IngestModule,
    LineProtocolModule,
    SessionsModule,
    QueryModule,
    SourcesModule,
    KeysModule,
    PlatformConfigModule,
    AuditModule,
    SetupModule,
    AlertsModule,
  ],
})
export class ApiModule {}
