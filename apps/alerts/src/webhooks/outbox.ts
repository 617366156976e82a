import type { AlertView } from '#common';
import { newId } from '../ids.js';

/** What enqueueWebhooks needs: the caller's transaction (a TypeORM QueryRunner or EntityManager, or a pg client). */
export interface TransactionQuery {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

export type WebhookEvent = 'fired' | 'resolved';

/** The JSON body a receiver gets, byte for byte the same on every attempt of one delivery. */
export interface WebhookBody {
  event: WebhookEvent;
  delivery_id: string;
  alert: AlertView;
  rule: { id: string; name: string };
  /** When the transition happened: the alert's fired_at, or its resolved_at. */
  at: string;
}

/** The body of one delivery; keys in the documented order (docs/alerts.md#webhooks). */
export function webhookBody(event: WebhookEvent, deliveryId: string, alert: AlertView, rule: { id: string; name: string }): string {
  const at = event === 'resolved' ? (alert.resolved_at ?? alert.fired_at) : alert.fired_at;
  const body: WebhookBody = { event, delivery_id: deliveryId, alert, rule: { id: rule.id, name: rule.name }, at };
  return JSON.stringify(body);
}

/** Rows of a query's result: TypeORM answers the rows, pg a result with `rows`. */
function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  const rows = (result as { rows?: unknown } | null)?.rows;
  return Array.isArray(rows) ? (rows as T[]) : [];
}

/**
 * Enqueues one delivery per webhook of the rule for a transition, inside the caller's transaction
 * (the outbox: the delivery exists if and only if the transition was stored). The body is fixed
 * here, so every retry sends the same bytes. A replayed transition enqueues nothing more: one
 * delivery per (alert, webhook, event). Answers how many deliveries were enqueued.
 */
export async function enqueueWebhooks(
  q: TransactionQuery,
  event: WebhookEvent,
  alert: AlertView,
  rule: { id: string; name: string },
): Promise<number> {
  const webhooks = rowsOf<{ id: string }>(
    await q.query(`SELECT id FROM alert_webhooks WHERE rule_id = $1 AND org_id = $2 ORDER BY id`, [rule.id, alert.org_id]),
  );
  if (webhooks.length === 0) return 0;
  const ids = webhooks.map(() => newId('dlv'));
  const bodies = ids.map((id) => webhookBody(event, id, alert, rule));
  const inserted = rowsOf<{ id: string }>(
    await q.query(
      `INSERT INTO webhook_deliveries (id, org_id, alert_id, webhook_id, event, body)
       SELECT d.id, $1, $2, d.webhook_id, $3, d.body
         FROM unnest($4::text[], $5::text[], $6::text[]) AS d(id, webhook_id, body)
       ON CONFLICT (alert_id, webhook_id, event) DO NOTHING
       RETURNING id`,
      [alert.org_id, alert.id, event, ids, webhooks.map((w) => w.id), bodies],
    ),
  );
  return inserted.length;
}
