import { Module } from '@nestjs/common';
import { DryRunController } from './dry-run.controller.js';
import { DEFAULT_DRY_RUN_LIMITS, DRY_RUN_LIMITS, DryRunService } from './dry-run.service.js';

/** POST /api/rules/test, answered over NATS: a rule run over stored points (docs/alerts.md, "Dry run"). */
@Module({
  controllers: [DryRunController],
  providers: [DryRunService, { provide: DRY_RUN_LIMITS, useValue: DEFAULT_DRY_RUN_LIMITS }],
})
export class DryRunModule {}
