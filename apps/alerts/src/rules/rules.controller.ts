import { Controller, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DomainRpcExceptionFilter, QUEUES, SUBJECTS } from '#common';
import { RulesService } from './rules.service.js';

/**
 * Rules over NATS (the gateway's /api/rules). Payloads are typed unknown on purpose: they come
 * from any NATS client, and the service checks every field (messages/alerts.ts gives their shapes).
 */
@Controller()
@UseFilters(DomainRpcExceptionFilter)
export class RulesController {
  constructor(private readonly rules: RulesService) {}

  /** CreateRuleRequest → RuleView, new webhooks' secrets shown this once. */
  @MessagePattern(SUBJECTS.alerts.createRule, { queue: QUEUES.alerts })
  create(@Payload() request: unknown) {
    return this.rules.create(request);
  }

  /** ListRulesRequest → { rules: RuleView[] }. */
  @MessagePattern(SUBJECTS.alerts.listRules, { queue: QUEUES.alerts })
  list(@Payload() request: unknown) {
    return this.rules.list(request);
  }

  /** RuleRequest → RuleView. */
  @MessagePattern(SUBJECTS.alerts.getRule, { queue: QUEUES.alerts })
  get(@Payload() request: unknown) {
    return this.rules.get(request);
  }

  /** UpdateRuleRequest → RuleView, secrets of webhooks added by this change shown this once. */
  @MessagePattern(SUBJECTS.alerts.updateRule, { queue: QUEUES.alerts })
  update(@Payload() request: unknown) {
    return this.rules.update(request);
  }

  /** RuleRequest → { deleted: true }. */
  @MessagePattern(SUBJECTS.alerts.deleteRule, { queue: QUEUES.alerts })
  delete(@Payload() request: unknown) {
    return this.rules.delete(request);
  }
}
