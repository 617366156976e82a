import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alerts (docs/alerts.md): rules and their webhooks, the state of each rule on each series it
 * watches, the alerts raised, and the webhook deliveries (an outbox written in the same transaction
 * as the transition, so a transition is notified exactly once per webhook) with every attempt.
 * Webhook secrets are not stored: each is an HMAC of its id and salt under the alerts secret.
 */
export class Alerts1733000000000 implements MigrationInterface {
  name = 'Alerts1733000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE alert_rules (
        id             text PRIMARY KEY,
        org_id         text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        name           text NOT NULL,
        enabled        boolean NOT NULL DEFAULT true,
        source_id      text,
        tags           jsonb,
        metric         text,
        condition      jsonb NOT NULL,
        for_seconds    integer NOT NULL DEFAULT 0,
        severity       text NOT NULL DEFAULT 'warning',
        silenced_until timestamptz,
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX alert_rules_by_org ON alert_rules (org_id, created_at, id)`);
    await db.query(`
      CREATE TABLE alert_webhooks (
        id         text PRIMARY KEY,
        rule_id    text NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
        org_id     text NOT NULL,
        url        text NOT NULL,
        salt       text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX alert_webhooks_by_rule ON alert_webhooks (rule_id)`);
    await db.query(`
      CREATE TABLE alert_states (
        rule_id       text NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
        series_key    text NOT NULL,
        org_id        text NOT NULL,
        source_id     text NOT NULL,
        metric        text,
        tags          jsonb,
        state         text NOT NULL,
        since         timestamptz NOT NULL,
        last_point_at timestamptz,
        last_seen_at  timestamptz,
        value         double precision,
        alert_id      text,
        updated_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (rule_id, series_key)
      )`);
    await db.query(`CREATE INDEX alert_states_by_org ON alert_states (org_id)`);
    await db.query(`
      CREATE TABLE alerts (
        id              text PRIMARY KEY,
        org_id          text NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        rule_id         text NOT NULL,
        rule_name       text NOT NULL,
        series_key      text NOT NULL,
        source_id       text NOT NULL,
        metric          text,
        tags            jsonb,
        severity        text NOT NULL,
        state           text NOT NULL,
        value           double precision,
        fired_at        timestamptz NOT NULL,
        resolved_at     timestamptz,
        acknowledged_at timestamptz,
        acknowledged_by text
      )`);
    await db.query(`CREATE INDEX alerts_by_org ON alerts (org_id, fired_at DESC, id DESC)`);
    await db.query(`CREATE INDEX alerts_firing ON alerts (org_id, rule_id) WHERE state = 'firing'`);
    await db.query(`
      CREATE TABLE webhook_deliveries (
        id              text PRIMARY KEY,
        org_id          text NOT NULL,
        alert_id        text NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
        webhook_id      text NOT NULL REFERENCES alert_webhooks(id) ON DELETE CASCADE,
        event           text NOT NULL,
        body            text NOT NULL,
        status          text NOT NULL DEFAULT 'pending',
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        claimed_until   timestamptz,
        created_at      timestamptz NOT NULL DEFAULT now(),
        delivered_at    timestamptz,
        UNIQUE (alert_id, webhook_id, event)
      )`);
    await db.query(`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`);
    // How far each partition's feed consumer has been applied (in the same transaction as the
    // states it changed): a batch replayed after a crash before its ack changes nothing twice.
    await db.query(`
      CREATE TABLE alert_feed_progress (
        consumer   text PRIMARY KEY,
        last_seq   bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE TABLE webhook_attempts (
        delivery_id text NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
        attempt     integer NOT NULL,
        at          timestamptz NOT NULL DEFAULT now(),
        status_code integer,
        error       text,
        duration_ms integer NOT NULL,
        PRIMARY KEY (delivery_id, attempt)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of [
      'webhook_attempts',
      'alert_feed_progress',
      'webhook_deliveries',
      'alerts',
      'alert_states',
      'alert_webhooks',
      'alert_rules',
    ]) {
      await db.query(`DROP TABLE ${table}`);
    }
  }
}
