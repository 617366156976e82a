import { Controller, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DomainRpcExceptionFilter, QUEUES, SUBJECTS } from '#common';
import { AlertsService } from './alerts.service.js';

/** The alerts of an org over NATS (the gateway's /api/alerts). Requests are checked by the service. */
@Controller()
@UseFilters(DomainRpcExceptionFilter)
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  /** ListAlertsRequest → ListAlertsReply. */
  @MessagePattern(SUBJECTS.alerts.list, { queue: QUEUES.alerts })
  list(@Payload() request: unknown) {
    return this.alerts.list(request);
  }

  /** AcknowledgeAlertRequest → AlertView. */
  @MessagePattern(SUBJECTS.alerts.acknowledge, { queue: QUEUES.alerts })
  acknowledge(@Payload() request: unknown) {
    return this.alerts.acknowledge(request);
  }
}
