import { Module } from '@nestjs/common';
import { BrokerModule, ConfigModule, DatabaseModule, HealthModule, MetricsModule } from '#common';
import { AlertsConfig, readAlertsConfig } from './config.js';
import { HistoryModule } from './history/history.module.js';
import { RulesModule } from './rules/rules.module.js';

@Module({
  imports: [
    ConfigModule.forApp(AlertsConfig, () => readAlertsConfig()),
    BrokerModule.forRoot('alerts'),
    DatabaseModule.forRoot([], 8),
    MetricsModule.forApp('alerts'),
    HealthModule.forRoot({ database: true, jetstream: true }),
    RulesModule,
    HistoryModule,
  ],
})
export class AppModule {}
