import { Injectable, Logger } from '@nestjs/common';
import {
  ALERT_LIST_STATES,
  type AlertEvent,
  type AlertListState,
  type AlertView,
  BrokerConnection,
  decodePageCursor,
  DomainError,
  encodePageCursor,
  type ListAlertsReply,
  SUBJECTS,
} from '#common';
import { optionalText, refuseBadData, requestObject, requireOrg, requireText } from '../rpc-input.js';
import { AlertsRepository } from './alerts.repository.js';

const MAX_LIMIT = 1000;
/**
 * An alert carries its point's tags (up to 32 of 1 KiB), so 1,000 of them may pass NATS's 1 MiB
 * message bound: a page stops at this much JSON, shorter than `limit`, with a next_cursor.
 */
const PAGE_BYTES = 512 * 1024;

/** Alerts of an org: the list (firing and history) and acknowledging one (docs/api.md, "Alerts"). */
@Injectable()
export class AlertsService {
  private readonly logger = new Logger(AlertsService.name);

  constructor(
    private readonly alerts: AlertsRepository,
    private readonly broker: BrokerConnection,
  ) {}

  async list(request: unknown): Promise<ListAlertsReply> {
    const orgId = requireOrg(request);
    const fields = requestObject(request);
    const state = fields.state ?? 'all';
    if (!ALERT_LIST_STATES.includes(state as AlertListState)) {
      throw badRequest('state', '"state" must be firing, resolved or all');
    }
    const limit = fields.limit ?? 100;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw badRequest('limit', `"limit" must be a whole number from 1 to ${MAX_LIMIT}`);
    }
    const cursor = optionalText(request, 'cursor', 512);
    const page = await refuseBadData(
      this.alerts.page(orgId, {
        state: state as AlertListState,
        ruleId: optionalText(request, 'rule_id', 128),
        sourceId: optionalText(request, 'source_id', 128),
        limit,
        maxBytes: PAGE_BYTES,
        after: cursor === undefined ? undefined : decodePageCursor(cursor, ALERT_ID),
      }),
      'cursor',
    );
    return {
      alerts: page.alerts,
      firing: await this.alerts.countFiring(orgId),
      next_cursor: page.next ? encodePageCursor(page.next) : null,
    };
  }

  /** Acknowledges the alert once (the first `by` and time stay); an alert of another org is NOT_FOUND. */
  async acknowledge(request: unknown): Promise<AlertView> {
    const orgId = requireOrg(request);
    const alertId = requireText(request, 'alert_id', 128);
    const by = requireText(request, 'by', 128);
    const acknowledged = await this.alerts.acknowledge(orgId, alertId, by);
    if (acknowledged) {
      const event: AlertEvent = { org_id: orgId, event: 'acknowledged', alert: acknowledged };
      try {
        this.broker.nc.publish(SUBJECTS.alerts.events(orgId), JSON.stringify(event));
      } catch (error) {
        // The acknowledgement is stored; browsers see it on their next list.
        this.logger.warn(`acknowledged event not published for org ${orgId}: ${(error as Error).message}`);
      }
      return acknowledged;
    }
    const existing = await this.alerts.find(orgId, alertId);
    if (!existing) throw new DomainError('NOT_FOUND', `alert ${JSON.stringify(alertId.slice(0, 64))} not found`);
    return existing;
  }
}

/** An alert id as this API hands them out (the cursor's second half). */
const ALERT_ID = /^[A-Za-z0-9_]{1,128}$/;

function badRequest(field: string, problem: string): DomainError {
  return new DomainError('BAD_REQUEST', problem, [{ field, message: problem }]);
}
