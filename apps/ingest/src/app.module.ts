import { Module } from '@nestjs/common';
import { BrokerModule, ConfigModule, DatabaseModule, HealthModule, MetricsModule } from '#common';
import { QueryModule } from './query/query.module.js';
import { RetentionModule } from './retention/retention.module.js';
import { SessionEntity } from './sessions/session.entity.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { IngestConfig, readIngestConfig } from './config.js';
import { WriterModule } from './writer/writer.module.js';

@Module({
  imports: [
    ConfigModule.forApp(IngestConfig, () => readIngestConfig()),
    BrokerModule.forRoot('ingest'),
    DatabaseModule.forRoot([SessionEntity], (config: IngestConfig) => config.writePoolSize),
    MetricsModule.forApp('ingest'),
    HealthModule.forRoot({ database: true, jetstream: true }),
    WriterModule,
    SessionsModule,
    QueryModule,
    RetentionModule,
  ],
})
export class AppModule {}
