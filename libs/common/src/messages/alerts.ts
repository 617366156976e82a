import type { AlertView, RuleInput, RulePatch, RuleTestInput, RuleView } from '../wire/alerts.js';

/* NATS requests to the alerts app (SUBJECTS.alerts); replies are the wire's views (wire/alerts.ts). */

/** `SUBJECTS.alerts.createRule` → RuleView (webhook secrets shown once). */
export interface CreateRuleRequest {
  org_id: string;
  rule: RuleInput;
}

/** `SUBJECTS.alerts.listRules` → ListRulesPage (no secrets), oldest first; `cursor` is a page's `next_cursor`. */
export interface ListRulesRequest {
  org_id: string;
  cursor?: string;
}
/** At most 500 rules or 256 KiB of them (a reply stays far below NATS's payload bound); `next_cursor` null on the last page. */
export interface ListRulesPage {
  rules: RuleView[];
  next_cursor: string | null;
}

/** `SUBJECTS.alerts.getRule` and `deleteRule` (→ `{ deleted: true }`). */
export interface RuleRequest {
  org_id: string;
  rule_id: string;
}

/** `SUBJECTS.alerts.updateRule` → RuleView (secrets of webhooks added by this change shown once). */
export interface UpdateRuleRequest extends RuleRequest {
  patch: RulePatch;
}

/** `SUBJECTS.alerts.testRule` → RuleTestResult. */
export interface TestRuleRequest extends RuleTestInput {
  org_id: string;
}

export const ALERT_LIST_STATES = ['firing', 'resolved', 'all'] as const;
export type AlertListState = (typeof ALERT_LIST_STATES)[number];

/** `SUBJECTS.alerts.list` → ListAlertsReply: newest first. */
export interface ListAlertsRequest {
  org_id: string;
  state?: AlertListState;
  rule_id?: string;
  source_id?: string;
  limit: number;
  cursor?: string;
}

/** `SUBJECTS.alerts.acknowledge` → AlertView. `by`: the API key's id. */
export interface AcknowledgeAlertRequest {
  org_id: string;
  alert_id: string;
  by: string;
}

/** `SUBJECTS.alerts.events(org)`, core NATS. */
export interface AlertEvent {
  org_id: string;
  event: 'fired' | 'resolved' | 'acknowledged';
  alert: AlertView;
}

/** `SUBJECTS.alerts.rulesChanged`, broadcast. */
export interface RulesChangedEvent {
  org_id: string;
}
