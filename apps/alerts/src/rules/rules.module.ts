import { Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { RulesController } from './rules.controller.js';
import { RulesRepository } from './rules.repository.js';
import { RulesService } from './rules.service.js';

/** Rules and their webhooks; deleting a rule resolves its firing alerts (HistoryModule's repository). */
@Module({
  imports: [HistoryModule, WebhooksModule],
  controllers: [RulesController],
  providers: [RulesRepository, RulesService],
  exports: [RulesRepository],
})
export class RulesModule {}
