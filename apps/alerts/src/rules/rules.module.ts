import { Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module.js';
import { RulesController } from './rules.controller.js';
import { RulesRepository } from './rules.repository.js';
import { RulesService } from './rules.service.js';
import { AlertsSecret } from './webhook-secret.js';

/** Rules and their webhooks; deleting a rule resolves its firing alerts (HistoryModule's repository). */
@Module({ imports: [HistoryModule], controllers: [RulesController], providers: [RulesRepository, RulesService, AlertsSecret] })
export class RulesModule {}
