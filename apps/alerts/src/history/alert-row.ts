import type { AlertView } from '#common';

/** A row of `alerts` as SELECT * / RETURNING * gives it. */
export interface AlertRow {
  id: string;
  org_id: string;
  rule_id: string;
  rule_name: string;
  series_key: string;
  source_id: string;
  metric: string | null;
  tags: Record<string, unknown> | null;
  severity: AlertView['severity'];
  state: AlertView['state'];
  value: number | null;
  fired_at: Date;
  resolved_at: Date | null;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
}

export function alertView(row: AlertRow): AlertView {
  return {
    id: row.id,
    org_id: row.org_id,
    rule_id: row.rule_id,
    rule_name: row.rule_name,
    severity: row.severity,
    source_id: row.source_id,
    metric: row.metric,
    tags: row.tags,
    state: row.state,
    value: row.value,
    fired_at: row.fired_at.toISOString(),
    resolved_at: row.resolved_at?.toISOString() ?? null,
    acknowledged_at: row.acknowledged_at?.toISOString() ?? null,
    acknowledged_by: row.acknowledged_by,
  };
}
