import { Module } from '@nestjs/common';
import { PartitionLeases } from '../partitions/partition-leases.service.js';
import { RulesModule } from '../rules/rules.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { EvaluatorService } from './evaluator.service.js';
import { StateStore } from './state-store.js';
import { StoredPoints } from './stored-points.js';

@Module({
  imports: [WebhooksModule, RulesModule],
  providers: [StateStore, StoredPoints, PartitionLeases, EvaluatorService],
})
export class EvaluatorModule {}
