import { beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import { type InProcessApp, mediumScope, recorder, startInProcess } from '../../../../test/support/medium.js';
import type { AlertsService as Alerts } from '../history/alerts.service.js';
import type { RulesService as Rules } from './rules.service.js';

// Medium: the alerts app's rule and alert handlers in process on the real PostgreSQL and NATS,
// spoken to as the gateway and operators' scripts do (NATS requests), and through the services
// for what HTTP cannot reach: requests without an org, an org that does not exist, creates racing
// at the per-org limit, the generated alerts secret.
const scope = await mediumScope();
const { AppModule } = await import('../app.module.js');
const { RulesService } = await import('./rules.service.js');
const { AlertsService } = await import('../history/alerts.service.js');
const { webhookSecret } = await import('../webhooks/webhook-secret.js');
const { ALERTS_SECRET_SETTING } = await import('../webhooks/alerts-secret.js');
const { SUBJECTS, DomainError } = await import('#common');

let app: InProcessApp;
let rules: Rules;
let alerts: Alerts;
let nc: NatsConnection;

const hot = { name: 'hot', metric: 'temperature', condition: { type: 'above', threshold: 30 } };

beforeAll(async () => {
  await scope.db.query(`INSERT INTO orgs (id, name) VALUES ('default', 'default'), ('org-b', 'org-b') ON CONFLICT DO NOTHING`);
  app = await startInProcess(AppModule, { answersNats: true });
  rules = app.get(RulesService);
  alerts = app.get(AlertsService);
  nc = await scope.nats();
});
scope.onTeardown(() => app?.close());

/** The DomainError a call was refused with, as its code and first field. */
async function refusal(work: Promise<unknown>): Promise<{ code: string; field?: string }> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DomainError);
  const domain = error as InstanceType<typeof DomainError>;
  return { code: domain.code, ...(domain.details?.[0] ? { field: domain.details[0].field } : {}) };
}

describe('rules over NATS (alerts app, real PostgreSQL and NATS)', () => {
  it('answers requests on its subjects in the queue group, errors as { code, message, details }', async () => {
    // Nest's reply envelope: { response } or { err }.
    const ask = async (subject: string, request: unknown) =>
      (await nc.request(subject, JSON.stringify(request), { timeout: 5000 })).json<{ response?: any; err?: any }>();
    const created = await ask(SUBJECTS.alerts.createRule, { org_id: 'default', rule: hot });
    expect(created.response.id).toMatch(/^rule_/);
    expect(await ask(SUBJECTS.alerts.getRule, { org_id: 'default', rule_id: created.response.id })).toMatchObject({
      response: { id: created.response.id, name: 'hot' },
    });
    expect(await ask(SUBJECTS.alerts.getRule, { org_id: 'org-b', rule_id: created.response.id })).toMatchObject({
      err: { code: 'NOT_FOUND', message: expect.any(String) },
    });
    expect(await ask(SUBJECTS.alerts.createRule, { org_id: 'default', rule: { ...hot, metric: null } })).toMatchObject({
      err: { code: 'BAD_REQUEST', details: [{ field: 'metric', message: expect.any(String) }] },
    });
    expect(await ask(SUBJECTS.alerts.list, { org_id: 'default', limit: 10 })).toMatchObject({
      response: { alerts: [], firing: 0, next_cursor: null },
    });
  });

  it('refuses requests without a usable org or rule id, and an org that does not exist', async () => {
    for (const request of [
      null,
      [],
      'default',
      {},
      { org_id: '' },
      { org_id: 5 },
      { org_id: 'a\u0000' },
      { org_id: '\ud800' },
      { org_id: 'x'.repeat(129) },
    ]) {
      expect(await refusal(rules.list(request))).toMatchObject({ code: 'BAD_REQUEST', field: expect.stringMatching(/^(request|org_id)$/) });
      expect(await refusal(rules.create(request))).toMatchObject({ code: 'BAD_REQUEST' });
      expect(await refusal(alerts.list(request))).toMatchObject({ code: 'BAD_REQUEST' });
    }
    expect(await refusal(rules.create({ org_id: 'no-such-org', rule: hot }))).toEqual({ code: 'NOT_FOUND' });
    expect(await refusal(rules.create({ org_id: 'default' }))).toMatchObject({ code: 'BAD_REQUEST', field: 'rule' });
    expect(await refusal(rules.create({ org_id: 'default', rule: [hot] }))).toMatchObject({ code: 'BAD_REQUEST', field: 'rule' });
    expect(await refusal(rules.update({ org_id: 'default', rule_id: 'rule_x' }))).toMatchObject({ code: 'BAD_REQUEST', field: 'patch' });
    for (const ruleId of [undefined, 5, '', 'a\u0000', '\udc00']) {
      expect(await refusal(rules.get({ org_id: 'default', rule_id: ruleId }))).toMatchObject({ code: 'BAD_REQUEST', field: 'rule_id' });
    }
    expect(await refusal(rules.get({ org_id: 'default', rule_id: 'rule_../x' }))).toEqual({ code: 'NOT_FOUND' });
    for (const by of [undefined, '', 'k\u0000']) {
      expect(await refusal(alerts.acknowledge({ org_id: 'default', alert_id: 'alr_x', by }))).toMatchObject({
        code: 'BAD_REQUEST',
        field: 'by',
      });
    }
    for (const [field, value] of [
      ['state', 'open'],
      ['limit', 0],
      ['limit', 1.5],
      ['limit', '5'],
      ['cursor', 'abc'],
      ['cursor', Buffer.from('["2026-99-99 00:00:00+00","alr_x"]').toString('base64url')],
    ] as Array<[string, unknown]>) {
      expect(await refusal(alerts.list({ org_id: 'default', [field]: value }))).toMatchObject({ code: 'BAD_REQUEST' });
    }
    expect(await refusal(rules.list({ org_id: 'default', cursor: 'abc' }))).toMatchObject({ code: 'BAD_REQUEST', field: 'cursor' });
  });

  it('tells every instance of a change: rules.changed with the org, after create, update and delete', async () => {
    const changed = await recorder(nc, SUBJECTS.alerts.rulesChanged);
    // Earlier tests' changes (org "default") may still reach the new subscription: count org-b's only.
    const ofOrgB = (event: unknown) => (event as { org_id?: unknown }).org_id === 'org-b';
    const rule = await rules.create({ org_id: 'org-b', rule: hot });
    expect(await changed.next('rules.changed after create', ofOrgB)).toEqual({ org_id: 'org-b' });
    await rules.update({ org_id: 'org-b', rule_id: rule.id, patch: { name: 'warm' } });
    expect(await changed.next('rules.changed after update', ofOrgB)).toEqual({ org_id: 'org-b' });
    await rules.delete({ org_id: 'org-b', rule_id: rule.id });
    expect(await changed.next('rules.changed after delete', ofOrgB)).toEqual({ org_id: 'org-b' });
    // A refused change changes nothing and tells nobody.
    await refusal(rules.update({ org_id: 'org-b', rule_id: rule.id, patch: { name: 'x' } }));
    await nc.flush();
    expect(changed.messages.filter(ofOrgB)).toHaveLength(3);
  });

  it('derives webhook secrets from a generated alerts secret kept in settings when none is configured', async () => {
    const { rows } = await scope.db.query(`SELECT value FROM settings WHERE name = $1`, [ALERTS_SECRET_SETTING]);
    expect(rows[0].value).toMatch(/^[0-9a-f]{64}$/);
    const rule = await rules.create({ org_id: 'default', rule: { ...hot, webhooks: [{ url: 'https://a.example' }] } });
    const [webhook] = rule.webhooks;
    const salt = (await scope.db.query(`SELECT salt FROM alert_webhooks WHERE id = $1`, [webhook.id])).rows[0].salt as string;
    expect(webhook.secret).toBe(webhookSecret(rows[0].value as string, webhook.id, salt));
  });

  it('lets exactly one of several creates racing for the last place under the per-org limit through', async () => {
    await scope.db.query(`INSERT INTO orgs (id, name) VALUES ('org-full', 'org-full')`);
    await scope.db.query(
      `INSERT INTO alert_rules (id, org_id, name, condition, metric)
       SELECT 'rule_race' || i, 'org-full', 'r', '{"type":"above","threshold":1}', 'm' FROM generate_series(1, 9999) AS i`,
    );
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => rules.create({ org_id: 'org-full', rule: hot })));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect((outcome.reason as InstanceType<typeof DomainError>).code).toBe('CONFLICT');
    }
    expect(Number((await scope.db.query(`SELECT count(*) FROM alert_rules WHERE org_id = 'org-full'`)).rows[0].count)).toBe(10_000);
  });

  it('lists in pages of at most 500 with a cursor, each page in order after the last', async () => {
    const first = await rules.list({ org_id: 'org-full' });
    expect(first.rules).toHaveLength(500);
    const ids = [...first.rules.map((rule) => rule.id)];
    let cursor = first.next_cursor;
    while (cursor) {
      const page = await rules.list({ org_id: 'org-full', cursor });
      ids.push(...page.rules.map((rule) => rule.id));
      cursor = page.next_cursor;
    }
    expect(ids).toHaveLength(10_000);
    expect(new Set(ids).size).toBe(10_000);
  });

  it('resolves the firing alerts of a deleted rule and says so on the org events subject; other orgs untouched', async () => {
    const rule = await rules.create({ org_id: 'default', rule: hot });
    const insert = (id: string, orgId: string, state: string) =>
      scope.db.query(
        `INSERT INTO alerts (id, org_id, rule_id, rule_name, series_key, source_id, severity, state, fired_at)
         VALUES ($1, $2, $3, 'hot', 's', 'pi-1', 'warning', $4, now())`,
        [id, orgId, rule.id, state],
      );
    await insert('alr_del1', 'default', 'firing');
    await insert('alr_del2', 'default', 'resolved');
    // Another org's row that names the same rule id (as only a bug could) is not the rule's to resolve.
    await insert('alr_del3', 'org-b', 'firing');
    const events = await recorder(nc, SUBJECTS.alerts.events('default'));
    expect(await rules.delete({ org_id: 'default', rule_id: rule.id })).toEqual({ deleted: true });
    expect(await events.next('the resolved event')).toMatchObject({
      org_id: 'default',
      event: 'resolved',
      alert: { id: 'alr_del1', state: 'resolved' },
    });
    const { rows } = await scope.db.query(
      `SELECT id, state, resolved_at IS NOT NULL AS resolved FROM alerts WHERE id LIKE 'alr_del%' ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: 'alr_del1', state: 'resolved', resolved: true },
      { id: 'alr_del2', state: 'resolved', resolved: false },
      { id: 'alr_del3', state: 'firing', resolved: false },
    ]);
    expect(events.messages).toHaveLength(1);
  });

  it('starts a rule over when what it watches changes or it is disabled: states cleared, firing alerts resolved; a rename keeps them', async () => {
    const rule = await rules.create({ org_id: 'default', rule: hot });
    const arrange = async (alertId: string) => {
      await scope.db.query(
        `INSERT INTO alerts (id, org_id, rule_id, rule_name, series_key, source_id, severity, state, fired_at)
         VALUES ($1, 'default', $2, 'hot', 's', 'pi-1', 'warning', 'firing', now())`,
        [alertId, rule.id],
      );
      await scope.db.query(
        `INSERT INTO alert_states (rule_id, series_key, org_id, source_id, state, since, alert_id) VALUES ($1, 's', 'default', 'pi-1', 'firing', now(), $2)
         ON CONFLICT (rule_id, series_key) DO UPDATE SET state = 'firing', alert_id = $2`,
        [rule.id, alertId],
      );
    };
    const states = async () =>
      Number((await scope.db.query(`SELECT count(*) FROM alert_states WHERE rule_id = $1`, [rule.id])).rows[0].count);
    const state = async (id: string) => (await scope.db.query(`SELECT state FROM alerts WHERE id = $1`, [id])).rows[0].state as string;

    await arrange('alr_keep1');
    await rules.update({ org_id: 'default', rule_id: rule.id, patch: { name: 'renamed', severity: 'critical', for_seconds: 5 } });
    expect([await states(), await state('alr_keep1')]).toEqual([1, 'firing']);

    const events = await recorder(nc, SUBJECTS.alerts.events('default'));
    await rules.update({ org_id: 'default', rule_id: rule.id, patch: { condition: { type: 'above', threshold: 40 } } });
    expect([await states(), await state('alr_keep1')]).toEqual([0, 'resolved']);
    expect(await events.next('the resolved event')).toMatchObject({ event: 'resolved', alert: { id: 'alr_keep1' } });

    await arrange('alr_keep2');
    await rules.update({ org_id: 'default', rule_id: rule.id, patch: { enabled: false } });
    expect([await states(), await state('alr_keep2')]).toEqual([0, 'resolved']);
  });
});
