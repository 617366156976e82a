import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { type AlertView, type ListAlertsReply, type Principal, ServicesClient, SUBJECTS } from '#common';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators.js';
import { ALERT_LIST_SCHEMA, ALERT_STATES_QUERY, ALERT_VIEW_SCHEMA } from './alerts-openapi.js';
import { ListAlertsDto } from './dto/list-alerts.dto.js';

/** Alerts: firing now and history, and acknowledging (docs/api.md, "Alerts"), answered by the alerts app. */
@ApiTags('alerts')
@Controller('api/alerts')
export class AlertsController {
  constructor(private readonly services: ServicesClient) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: 'Alerts, newest first (by fired_at), with the count of firing ones' })
  @ApiQuery({ name: 'state', required: false, schema: ALERT_STATES_QUERY, description: 'all by default' })
  @ApiQuery({ name: 'rule_id', required: false, type: String })
  @ApiQuery({ name: 'source_id', required: false, type: String })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } })
  @ApiQuery({ name: 'cursor', required: false, type: String, description: 'next_cursor of the previous page' })
  @ApiOkResponse({ schema: ALERT_LIST_SCHEMA })
  list(@CurrentPrincipal() principal: Principal, @Query() dto: ListAlertsDto): Promise<ListAlertsReply> {
    return this.services.call(SUBJECTS.alerts.list, { ...dto, limit: dto.limit ?? 100, org_id: principal.org_id });
  }

  @Post(':alertId/ack')
  @HttpCode(200)
  @RequireScope('admin')
  @ApiOperation({ summary: "Acknowledges the alert (once: a second call answers it unchanged); 404 for another org's alert" })
  @ApiOkResponse({ schema: ALERT_VIEW_SCHEMA })
  acknowledge(@CurrentPrincipal() principal: Principal, @Param('alertId') alertId: string): Promise<AlertView> {
    return this.services.call(SUBJECTS.alerts.acknowledge, { org_id: principal.org_id, alert_id: alertId, by: principal.key_id });
  }
}
