import { Module } from '@nestjs/common';
import { AlertsController } from './alerts.controller.js';
import { RulesController } from './rules.controller.js';

/** /api/rules and /api/alerts: checked here, answered by the alerts app over NATS. */
@Module({ controllers: [RulesController, AlertsController] })
export class AlertsModule {}
