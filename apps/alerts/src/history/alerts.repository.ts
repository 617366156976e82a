import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { type AlertListState, type AlertView, fitInBytes } from '#common';
import { alertView, type AlertRow } from './alert-row.js';

/** A row as the API reads it: fired_at also as PostgreSQL's exact text, for the cursor. */
interface ListedAlertRow extends AlertRow {
  /** fired_at as PostgreSQL writes it: exact to the microsecond, read back by `::timestamptz` (the cursor). */
  fired_at_text: string;
}

const ALERT_COLUMNS = `id, org_id, rule_id, rule_name, source_id, metric, tags, severity, state, value, fired_at, resolved_at,
  acknowledged_at, acknowledged_by, fired_at::text AS fired_at_text`;

export interface AlertPageQuery {
  state: AlertListState;
  ruleId?: string;
  sourceId?: string;
  limit: number;
  maxBytes: number;
  /** The last alert of the previous page: its fired_at (PostgreSQL's text) and id. */
  after?: [string, string];
}

/**
 * Reads of `alerts` for the API, and the writes the API makes (acknowledge; resolve the alerts of a
 * deleted rule). Every query names the org.
 */
@Injectable()
export class AlertsRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  /**
   * Newest first (fired_at, then id), keyset-paged: at most `limit` alerts and `maxBytes` of them as
   * JSON (one at least); one row more than `limit` tells whether a next page exists.
   */
  async page(orgId: string, query: AlertPageQuery): Promise<{ alerts: AlertView[]; next: [string, string] | null }> {
    const where = ['org_id = $1'];
    const params: unknown[] = [orgId];
    const add = (clause: (n: string) => string, value: unknown) => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (query.state !== 'all') add((n) => `state = ${n}`, query.state);
    if (query.ruleId !== undefined) add((n) => `rule_id = ${n}`, query.ruleId);
    if (query.sourceId !== undefined) add((n) => `source_id = ${n}`, query.sourceId);
    if (query.after) {
      params.push(query.after[0], query.after[1]);
      where.push(`(fired_at, id) < ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(query.limit + 1);
    const rows: ListedAlertRow[] = await this.dataSource.query(
      `SELECT ${ALERT_COLUMNS} FROM alerts WHERE ${where.join(' AND ')} ORDER BY fired_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const { fitted: alerts } = fitInBytes(rows.slice(0, query.limit).map(alertView), query.maxBytes, true);
    const last = rows[alerts.length - 1] as ListedAlertRow | undefined;
    return { alerts, next: alerts.length < rows.length && last ? [last.fired_at_text, last.id] : null };
  }

  async countFiring(orgId: string): Promise<number> {
    const [row] = await this.dataSource.query(`SELECT count(*)::int AS n FROM alerts WHERE org_id = $1 AND state = 'firing'`, [orgId]);
    return row.n as number;
  }

  async find(orgId: string, id: string): Promise<AlertView | undefined> {
    const rows: ListedAlertRow[] = await this.dataSource.query(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE org_id = $1 AND id = $2`, [
      orgId,
      id,
    ]);
    return rows[0] && alertView(rows[0]);
  }

  /** Sets acknowledged_at/by unless already set: the alert if this call acknowledged it, else undefined. */
  async acknowledge(orgId: string, id: string, by: string): Promise<AlertView | undefined> {
    // TypeORM answers UPDATE as [rows, affected].
    const [rows]: [ListedAlertRow[], number] = await this.dataSource.query(
      `UPDATE alerts SET acknowledged_at = now(), acknowledged_by = $3
       WHERE org_id = $1 AND id = $2 AND acknowledged_at IS NULL
       RETURNING ${ALERT_COLUMNS}`,
      [orgId, id, by],
    );
    return rows[0] && alertView(rows[0]);
  }

  /** Marks the rule's firing alerts resolved now (the rule is being deleted): the alerts resolved. */
  async resolveFiringOfRule(manager: EntityManager, orgId: string, ruleId: string): Promise<AlertView[]> {
    const [rows]: [ListedAlertRow[], number] = await manager.query(
      `UPDATE alerts SET state = 'resolved', resolved_at = now()
       WHERE org_id = $1 AND rule_id = $2 AND state = 'firing'
       RETURNING ${ALERT_COLUMNS}`,
      [orgId, ruleId],
    );
    return rows.map(alertView);
  }
}
