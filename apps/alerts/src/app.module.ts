import { Module } from '@nestjs/common';
import { BrokerModule, ConfigModule, DatabaseModule, HealthModule, MetricsModule } from '#common';
import { AlertsConfig, readAlertsConfig } from './config.js';
import { DryRunModule } from './dry-run/dry-run.module.js';
import { EvaluatorModule } from './evaluator/evaluator.module.js';
import { RulesModule } from './rules/rules.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

@Module({
  imports: [
    ConfigModule.forApp(AlertsConfig, () => readAlertsConfig()),
    BrokerModule.forRoot('alerts'),
    DatabaseModule.forRoot([], 8),
    MetricsModule.forApp('alerts'),
    HealthModule.forRoot({ database: true, jetstream: true }),
    WebhooksModule,
    RulesModule,
    EvaluatorModule,
    DryRunModule,
  ],
})
export class AppModule {}
