import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { PagePosition, RuleView, WebhookView } from '#common';

/** A rule as stored, every field set (defaults filled in): the view without its webhooks. */
export type StoredRule = Omit<RuleView, 'webhooks'>;

export interface StoredWebhook {
  id: string;
  rule_id: string;
  url: string;
  salt: string;
}

/** Where a page of rules ends: created_at as PostgreSQL writes it, and the id. */
export type RulePosition = PagePosition;

export type RuleFields = Omit<StoredRule, 'id' | 'org_id' | 'created_at' | 'updated_at'>;

interface RuleRow extends Omit<StoredRule, 'silenced_until' | 'created_at' | 'updated_at'> {
  silenced_until: Date | null;
  created_at: Date;
  updated_at: Date;
}

const RULE_COLUMNS = `id, org_id, name, enabled, source_id, tags, metric, condition, for_seconds, severity, silenced_until, created_at, updated_at`;

function storedRule(row: RuleRow): StoredRule {
  return {
    ...row,
    silenced_until: row.silenced_until ? row.silenced_until.toISOString() : null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** The view of a rule; `secrets` holds the secret of each webhook this answer may show (created just now). */
export function ruleView(rule: StoredRule, webhooks: StoredWebhook[], secrets: Map<string, string> = new Map()): RuleView {
  return {
    ...rule,
    webhooks: webhooks.map((webhook): WebhookView => {
      const secret = secrets.get(webhook.id);
      return secret === undefined ? { id: webhook.id, url: webhook.url } : { id: webhook.id, url: webhook.url, secret };
    }),
  };
}

/**
 * The SQL of alert_rules and alert_webhooks (this app is their one writer). Every query names the
 * org: an id of another org's rule finds nothing. Writes take the transaction's EntityManager.
 */
@Injectable()
export class RulesRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * Serialises rule creation per org for the rest of the transaction, so two creates at once
   * cannot both pass the per-org count.
   */
  async lockOrg(manager: EntityManager, orgId: string): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('alert_rules:' || $1, 0))`, [orgId]);
  }

  async count(manager: EntityManager, orgId: string): Promise<number> {
    const [row] = await manager.query(`SELECT count(*)::int AS n FROM alert_rules WHERE org_id = $1`, [orgId]);
    return row.n as number;
  }

  async insert(manager: EntityManager, id: string, orgId: string, fields: RuleFields): Promise<StoredRule> {
    const [row] = await manager.query(
      `INSERT INTO alert_rules (id, org_id, name, enabled, source_id, tags, metric, condition, for_seconds, severity, silenced_until)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::jsonb, $9, $10, $11)
       RETURNING ${RULE_COLUMNS}`,
      [id, orgId, ...this.values(fields)],
    );
    return storedRule(row as RuleRow);
  }

  async update(manager: EntityManager, orgId: string, id: string, fields: RuleFields): Promise<StoredRule> {
    // TypeORM answers UPDATE and DELETE as [rows, affected].
    const [rows]: [RuleRow[], number] = await manager.query(
      `UPDATE alert_rules SET name = $3, enabled = $4, source_id = $5, tags = $6::jsonb, metric = $7, condition = $8::jsonb,
         for_seconds = $9, severity = $10, silenced_until = $11, updated_at = now()
       WHERE org_id = $1 AND id = $2
       RETURNING ${RULE_COLUMNS}`,
      [orgId, id, ...this.values(fields)],
    );
    return storedRule(rows[0]);
  }

  private values(fields: RuleFields): unknown[] {
    return [
      fields.name,
      fields.enabled,
      fields.source_id,
      fields.tags === null ? null : JSON.stringify(fields.tags),
      fields.metric,
      JSON.stringify(fields.condition),
      fields.for_seconds,
      fields.severity,
      fields.silenced_until,
    ];
  }

  /** The rule, locked for the rest of the transaction when `manager` is one (`forUpdate`). */
  /** The enabled rules, of one org or of every org (what the evaluators load). */
  async enabled(orgId?: string): Promise<StoredRule[]> {
    const rows: RuleRow[] = await this.dataSource.query(
      `SELECT ${RULE_COLUMNS} FROM alert_rules WHERE enabled ${orgId === undefined ? '' : 'AND org_id = $1'} ORDER BY created_at, id`,
      orgId === undefined ? [] : [orgId],
    );
    return rows.map(storedRule);
  }

  async find(
    orgId: string,
    id: string,
    manager: EntityManager | DataSource = this.dataSource,
    forUpdate = false,
  ): Promise<StoredRule | undefined> {
    const rows: RuleRow[] = await manager.query(
      `SELECT ${RULE_COLUMNS} FROM alert_rules WHERE org_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
      [orgId, id],
    );
    return rows[0] && storedRule(rows[0]);
  }

  /**
   * Rules of the org, oldest first, `limit` of them after `after` (the `created_at` as PostgreSQL
   * writes it, exact to the microsecond, and the id of the last rule of the previous page).
   */
  async list(orgId: string, limit: number, after?: RulePosition): Promise<Array<{ rule: StoredRule; position: RulePosition }>> {
    const rows: Array<RuleRow & { created_at_text: string }> = await this.dataSource.query(
      `SELECT ${RULE_COLUMNS}, created_at::text AS created_at_text FROM alert_rules
       WHERE org_id = $1 ${after ? 'AND (created_at, id) > ($3::timestamptz, $4)' : ''}
       ORDER BY created_at, id LIMIT $2`,
      after ? [orgId, limit, after[0], after[1]] : [orgId, limit],
    );
    return rows.map(({ created_at_text: createdAt, ...row }) => ({ rule: storedRule(row), position: [createdAt, row.id] }));
  }

  async delete(manager: EntityManager, orgId: string, id: string): Promise<boolean> {
    // TypeORM answers UPDATE and DELETE as [rows, affected].
    const [, affected]: [unknown[], number] = await manager.query(`DELETE FROM alert_rules WHERE org_id = $1 AND id = $2 RETURNING id`, [
      orgId,
      id,
    ]);
    return affected > 0;
  }

  /** Forgets the rule's state on every series (what it watches changed). */
  async clearStates(manager: EntityManager, ruleId: string): Promise<void> {
    await manager.query(`DELETE FROM alert_states WHERE rule_id = $1`, [ruleId]);
  }

  /** Webhooks of the given rules of the org, oldest first, by rule. */
  async webhooks(
    orgId: string,
    ruleIds: string[],
    manager: EntityManager | DataSource = this.dataSource,
  ): Promise<Map<string, StoredWebhook[]>> {
    const byRule = new Map<string, StoredWebhook[]>(ruleIds.map((id) => [id, []]));
    if (ruleIds.length === 0) return byRule;
    const rows: StoredWebhook[] = await manager.query(
      `SELECT id, rule_id, url, salt FROM alert_webhooks WHERE org_id = $1 AND rule_id = ANY($2::text[]) ORDER BY created_at, id`,
      [orgId, ruleIds],
    );
    for (const row of rows) byRule.get(row.rule_id)?.push(row);
    return byRule;
  }

  async insertWebhook(manager: EntityManager, orgId: string, webhook: StoredWebhook): Promise<void> {
    await manager.query(`INSERT INTO alert_webhooks (id, rule_id, org_id, url, salt) VALUES ($1, $2, $3, $4, $5)`, [
      webhook.id,
      webhook.rule_id,
      orgId,
      webhook.url,
      webhook.salt,
    ]);
  }

  async updateWebhookUrl(manager: EntityManager, orgId: string, id: string, url: string): Promise<void> {
    await manager.query(`UPDATE alert_webhooks SET url = $3 WHERE org_id = $1 AND id = $2`, [orgId, id, url]);
  }

  async deleteWebhooks(manager: EntityManager, orgId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await manager.query(`DELETE FROM alert_webhooks WHERE org_id = $1 AND id = ANY($2::text[])`, [orgId, ids]);
  }
}
