import { Controller, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DomainRpcExceptionFilter, QUEUES, type RuleTestResult, SUBJECTS, type TestRuleRequest } from '#common';
import { DryRunService } from './dry-run.service.js';

@Controller()
@UseFilters(DomainRpcExceptionFilter)
export class DryRunController {
  constructor(private readonly dryRun: DryRunService) {}

  /** `TestRuleRequest` → `RuleTestResult`; the request is checked by the service, whatever arrived. */
  @MessagePattern(SUBJECTS.alerts.testRule, { queue: QUEUES.alerts })
  test(@Payload() request: TestRuleRequest): Promise<RuleTestResult> {
    return this.dryRun.run(request);
  }
}
