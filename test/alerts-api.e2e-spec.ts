import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { deepJson } from './support/hostile.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';

/**
 * The alerts API as a client sees it (docs/api.md, "Alert rules" and "Alerts"): rules created,
 * read, changed and deleted over HTTP, webhook secrets shown once, scopes, validation, orgs that
 * never see each other, the alert list and acknowledging. Alerts themselves are written by SQL
 * here: raising them is the evaluator's part, tested on its own.
 */
const ALERTS_SECRET = 'alerts-api-test-secret-0123456789abcdef';
const OTHER_ORG = 'alerts-other-org';

let platform: Platform;
let nc: NatsConnection;
let readKey: string;
let otherAdminKey: string;
const rulesChanged: Array<{ org_id: string }> = [];
const alertEvents: Array<{ org_id: string; event: string; alert: { id: string } }> = [];
const subscriptions: Subscription[] = [];

beforeAll(async () => {
  platform = await Platform.start({ apps: ['pairing', 'gateway', 'alerts'], env: { PLEXUS_ALERTS_SECRET: ALERTS_SECRET } });
  readKey = await platform.createKey(['read']);
  otherAdminKey = await platform.createKey(['admin'], OTHER_ORG);
  nc = await connect({ servers: platform.env.NATS_URL as string });
  const listen = <T>(subject: string, into: T[]) => {
    const subscription = nc.subscribe(subject);
    subscriptions.push(subscription);
    void (async () => {
      for await (const message of subscription) into.push(message.json<T>());
    })();
  };
  listen(platform.subjects.alerts.rulesChanged, rulesChanged);
  listen(platform.subjects.alerts.eventsAll, alertEvents);
  await nc.flush();
}, 120_000);

afterAll(async () => {
  for (const subscription of subscriptions) subscription.unsubscribe();
  await nc?.close();
  await platform?.stop();
});

interface WebhookView {
  id: string;
  url: string;
  secret?: string;
}
interface RuleView {
  id: string;
  org_id: string;
  name: string;
  enabled: boolean;
  source_id: string | null;
  tags: Record<string, unknown> | null;
  metric: string | null;
  condition: Record<string, unknown>;
  for_seconds: number;
  severity: string;
  webhooks: WebhookView[];
  silenced_until: string | null;
  created_at: string;
  updated_at: string;
}
interface AlertView {
  id: string;
  org_id: string;
  rule_id: string;
  state: string;
  fired_at: string;
  resolved_at: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  source_id: string;
}
interface ErrorAnswer {
  statusCode: number;
  code: string;
  message: string;
  details?: Array<{ field: string; message: string }>;
}

function call(method: string, path: string, body?: unknown, key?: string | null): Promise<Response> {
  return platform.api(path, {
    method,
    key,
    ...(body === undefined
      ? {}
      : { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
}

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect({ status: response.status, text: text.slice(0, 400) }).toEqual({ status, text: expect.any(String) });
  return JSON.parse(text) as T;
}

async function refused(response: Response, status: number, code: string, field?: string | RegExp): Promise<ErrorAnswer> {
  const answer = await json<ErrorAnswer>(response, status);
  expect(answer).toMatchObject({ statusCode: status, code, message: expect.any(String) });
  if (field !== undefined) {
    expect({ message: answer.message, field: answer.details?.[0]?.field }).toEqual({
      message: answer.message,
      field: typeof field === 'string' ? field : expect.stringMatching(field),
    });
  }
  return answer;
}

const createRule = async (rule: unknown, key?: string): Promise<RuleView> =>
  json<RuleView>(await call('POST', '/api/rules', rule, key), 201);

const salt = async (webhookId: string): Promise<string> =>
  (await platform.db.query<{ salt: string }>(`SELECT salt FROM alert_webhooks WHERE id = $1`, [webhookId])).rows[0].salt;

const expectedSecret = async (webhookId: string) =>
  createHmac('sha256', ALERTS_SECRET)
    .update(`${webhookId}.${await salt(webhookId)}`)
    .digest('base64url');

const hot = { name: 'Hot lab', metric: 'temperature', condition: { type: 'above', threshold: 30 } };

describe('rules: create, read, change, delete', () => {
  it('creates a rule with defaults filled in, the webhook secret shown once, and tells the evaluators', async () => {
    const before = rulesChanged.length;
    const rule = await createRule({ ...hot, tags: { room: 'lab' }, webhooks: [{ url: 'https://hooks.example.com/plexus' }] });
    expect(rule).toMatchObject({
      id: expect.stringMatching(/^rule_[A-Za-z0-9]{20}$/),
      org_id: 'default',
      name: 'Hot lab',
      enabled: true,
      source_id: null,
      tags: { room: 'lab' },
      metric: 'temperature',
      condition: { type: 'above', threshold: 30 },
      for_seconds: 0,
      severity: 'warning',
      silenced_until: null,
    });
    expect(Date.parse(rule.created_at)).not.toBeNaN();
    expect(rule.webhooks).toEqual([
      { id: expect.stringMatching(/^whk_[A-Za-z0-9]{20}$/), url: 'https://hooks.example.com/plexus', secret: expect.any(String) },
    ]);
    expect(rule.webhooks[0].secret).toBe(await expectedSecret(rule.webhooks[0].id));
    await waitFor('rules.changed for the create', () => rulesChanged.slice(before).some((event) => event.org_id === 'default'));

    // Never again: neither GET nor the list shows the secret, and it is not stored.
    const got = await json<RuleView>(await call('GET', `/api/rules/${rule.id}`), 200);
    expect(got).toEqual({ ...rule, webhooks: [{ id: rule.webhooks[0].id, url: rule.webhooks[0].url }] });
    const { rules } = await json<{ rules: RuleView[] }>(await call('GET', '/api/rules'), 200);
    expect(rules.find((listed) => listed.id === rule.id)?.webhooks).toEqual([{ id: rule.webhooks[0].id, url: rule.webhooks[0].url }]);
    const stored = await platform.db.query(`SELECT * FROM alert_webhooks WHERE id = $1`, [rule.webhooks[0].id]);
    expect(JSON.stringify(stored.rows)).not.toContain(rule.webhooks[0].secret);
  });

  it('takes every condition, severity, a source, for_seconds and a silence', async () => {
    const rules = [
      { name: 'cold', metric: 'temperature', condition: { type: 'below', threshold: -5.5 }, severity: 'critical', for_seconds: 300 },
      {
        name: 'band',
        metric: 'humidity',
        condition: { type: 'outside', low: 20, high: 80 },
        source_id: 'pi-1',
        tags: { ['😀'.repeat(128)]: 'é' },
      },
      { name: 'dead band', metric: 'humidity', condition: { type: 'inside', low: 40, high: 40 }, severity: 'info' },
      { name: 'quiet', metric: 'temperature', condition: { type: 'no_data', seconds: 120 } },
      { name: 'gone', condition: { type: 'offline', seconds: 60 }, source_id: 'pi-1', metric: null, tags: null },
      { ...hot, enabled: false, silenced_until: '2030-01-01T00:00:00+02:00' },
    ];
    for (const input of rules) {
      const rule = await createRule(input);
      const { silenced_until: silencedUntil, ...rest } = input as typeof input & { silenced_until?: string };
      expect(rule).toMatchObject(rest);
      if (silencedUntil) expect(rule.silenced_until).toBe('2029-12-31T22:00:00.000Z');
    }
  });

  it('PATCH changes the given fields, silences and unsilences, and tells the evaluators', async () => {
    const rule = await createRule(hot);
    const before = rulesChanged.length;
    const silenced = await json<RuleView>(
      await call('PATCH', `/api/rules/${rule.id}`, { name: 'Very hot', silenced_until: '2030-06-01T12:00:00Z', severity: 'critical' }),
      200,
    );
    expect(silenced).toMatchObject({
      ...rule,
      name: 'Very hot',
      silenced_until: '2030-06-01T12:00:00.000Z',
      severity: 'critical',
      updated_at: expect.any(String),
    });
    expect(Date.parse(silenced.updated_at)).toBeGreaterThanOrEqual(Date.parse(rule.updated_at));
    await waitFor('rules.changed for the patch', () => rulesChanged.length > before);
    const unsilenced = await json<RuleView>(await call('PATCH', `/api/rules/${rule.id}`, { silenced_until: null }), 200);
    expect(unsilenced).toMatchObject({ name: 'Very hot', silenced_until: null });
    // A change of condition is checked on the rule as it would become.
    const offline = await json<RuleView>(
      await call('PATCH', `/api/rules/${rule.id}`, { condition: { type: 'offline', seconds: 30 }, metric: null }),
      200,
    );
    expect(offline).toMatchObject({ condition: { type: 'offline', seconds: 30 }, metric: null });
    expect(await json<RuleView>(await call('PATCH', `/api/rules/${rule.id}`, {}), 200)).toMatchObject({ name: 'Very hot' });
  });

  it('DELETE removes the rule and its webhooks, resolves its firing alerts, and tells the evaluators', async () => {
    const rule = await createRule({ ...hot, webhooks: [{ url: 'http://127.0.0.1:9/hook' }] });
    const alertId = await insertAlert(rule.id, { state: 'firing', firedAt: '2026-01-01T00:00:00Z' });
    const before = rulesChanged.length;
    expect(await json(await call('DELETE', `/api/rules/${rule.id}`), 200)).toEqual({ deleted: true });
    await refused(await call('GET', `/api/rules/${rule.id}`), 404, 'NOT_FOUND');
    await refused(await call('DELETE', `/api/rules/${rule.id}`), 404, 'NOT_FOUND');
    expect(await platform.count(`SELECT count(*) FROM alert_webhooks WHERE rule_id = $1`, [rule.id])).toBe(0);
    const { rows } = await platform.db.query(`SELECT state, resolved_at FROM alerts WHERE id = $1`, [alertId]);
    expect(rows[0]).toMatchObject({ state: 'resolved', resolved_at: expect.any(Date) });
    await waitFor('rules.changed for the delete', () => rulesChanged.length > before);
    await waitFor('a resolved event for the firing alert', () =>
      alertEvents.some((event) => event.event === 'resolved' && event.alert.id === alertId),
    );
  });

  it('answers 404 for unknown rule ids of every shape', async () => {
    for (const id of ['rule_AAAAAAAAAAAAAAAAAAAA', 'nope', 'rule_', '%E2%82%AC', 'rule_a.b']) {
      await refused(await call('GET', `/api/rules/${id}`), 404, 'NOT_FOUND');
      await refused(await call('PATCH', `/api/rules/${id}`, { name: 'x' }), 404, 'NOT_FOUND');
      await refused(await call('DELETE', `/api/rules/${id}`), 404, 'NOT_FOUND');
    }
  });
});

describe('webhooks: PATCH replaces the list', () => {
  it('keeps listed ids (secret unchanged, url may change), creates entries without id, deletes the rest', async () => {
    const rule = await createRule({ ...hot, webhooks: [{ url: 'https://a.example/hook' }, { url: 'https://b.example/hook' }] });
    const [a, b] = rule.webhooks;
    const secretA = a.secret;
    const patched = await json<RuleView>(
      await call('PATCH', `/api/rules/${rule.id}`, {
        webhooks: [{ id: a.id, url: 'https://a2.example/hook' }, { url: 'https://c.example/hook' }],
      }),
      200,
    );
    expect(patched.webhooks).toEqual([
      { id: a.id, url: 'https://a2.example/hook' },
      { id: expect.stringMatching(/^whk_/), url: 'https://c.example/hook', secret: expect.any(String) },
    ]);
    const c = patched.webhooks[1];
    expect(c.id).not.toBe(b.id);
    expect(c.secret).toBe(await expectedSecret(c.id));
    // A kept webhook signs with the secret it was given.
    expect(await expectedSecret(a.id)).toBe(secretA);
    expect(await platform.count(`SELECT count(*) FROM alert_webhooks WHERE id = $1`, [b.id])).toBe(0);
    expect((await json<RuleView>(await call('GET', `/api/rules/${rule.id}`), 200)).webhooks).toEqual([
      { id: a.id, url: 'https://a2.example/hook' },
      { id: c.id, url: 'https://c.example/hook' },
    ]);
    // A patch without webhooks leaves them; an empty list removes them all.
    expect((await json<RuleView>(await call('PATCH', `/api/rules/${rule.id}`, { name: 'n' }), 200)).webhooks).toHaveLength(2);
    expect((await json<RuleView>(await call('PATCH', `/api/rules/${rule.id}`, { webhooks: [] }), 200)).webhooks).toEqual([]);
  });

  it('refuses an unknown webhook id, one of another rule, and the same id twice; the rule is left as it was', async () => {
    const rule = await createRule({ ...hot, webhooks: [{ url: 'https://a.example/hook' }] });
    const other = await createRule({ ...hot, webhooks: [{ url: 'https://other.example/hook' }] });
    const id = rule.webhooks[0].id;
    for (const webhooks of [
      [{ id: 'whk_AAAAAAAAAAAAAAAAAAAA', url: 'https://x.example' }],
      [{ id: other.webhooks[0].id, url: 'https://x.example' }],
      [
        { id, url: 'https://x.example' },
        { id, url: 'https://y.example' },
      ],
    ]) {
      await refused(await call('PATCH', `/api/rules/${rule.id}`, { webhooks, name: 'changed' }), 400, 'INVALID_BODY', 'webhooks');
    }
    await refused(
      await call('POST', '/api/rules', { ...hot, webhooks: [{ id, url: 'https://x.example' }] }),
      400,
      'INVALID_BODY',
      'webhooks',
    );
    const after = await json<RuleView>(await call('GET', `/api/rules/${rule.id}`), 200);
    expect(after).toMatchObject({ name: hot.name, webhooks: [{ id, url: 'https://a.example/hook' }] });
  });
});

describe('scopes', () => {
  it('read lists and gets; only admin creates, changes, deletes and acknowledges; no key is 401', async () => {
    const rule = await createRule(hot);
    expect((await call('GET', '/api/rules', undefined, readKey)).status).toBe(200);
    expect((await call('GET', `/api/rules/${rule.id}`, undefined, readKey)).status).toBe(200);
    expect((await call('GET', '/api/alerts', undefined, readKey)).status).toBe(200);
    await refused(await call('POST', '/api/rules', hot, readKey), 403, 'SCOPE_MISSING');
    await refused(await call('PATCH', `/api/rules/${rule.id}`, { name: 'x' }, readKey), 403, 'SCOPE_MISSING');
    await refused(await call('DELETE', `/api/rules/${rule.id}`, undefined, readKey), 403, 'SCOPE_MISSING');
    await refused(await call('POST', '/api/alerts/alr_x/ack', undefined, readKey), 403, 'SCOPE_MISSING');
    // The dry run needs only read: a bad body gets past the scope to the body's check.
    await refused(await call('POST', '/api/rules/test', { rule: { name: 'x' } }, readKey), 400, 'INVALID_BODY', 'condition');
    for (const [method, path] of [
      ['GET', '/api/rules'],
      ['POST', '/api/rules'],
      ['POST', '/api/rules/test'],
      ['GET', '/api/alerts'],
    ]) {
      await refused(await call(method, path, method === 'POST' ? hot : undefined, null), 401, 'UNAUTHORIZED');
    }
    expect((await json<RuleView>(await call('GET', `/api/rules/${rule.id}`), 200)).name).toBe(hot.name);
  });
});

describe('validation', () => {
  it.each([
    ['no name', { metric: 'm', condition: { type: 'above', threshold: 1 } }, 'name'],
    ['empty name', { ...hot, name: '' }, 'name'],
    ['name of another type', { ...hot, name: 5 }, 'name'],
    ['no condition', { name: 'x', metric: 'm' }, 'condition'],
    ['condition of another type', { ...hot, condition: [] }, 'condition'],
    ['unknown condition type', { ...hot, condition: { type: 'sideways', threshold: 1 } }, /^(condition|type)$/],
    ['threshold as text', { ...hot, condition: { type: 'above', threshold: '30' } }, 'threshold'],
    ['range without high', { ...hot, condition: { type: 'outside', low: 1 } }, /^(condition|high|threshold)$/],
    ['seconds of 0', { ...hot, condition: { type: 'no_data', seconds: 0 } }, 'seconds'],
    ['fractional seconds', { ...hot, condition: { type: 'no_data', seconds: 1.5 } }, 'seconds'],
    ['negative for_seconds', { ...hot, for_seconds: -1 }, 'for_seconds'],
    ['for_seconds over a week', { ...hot, for_seconds: 7 * 24 * 3600 + 1 }, 'for_seconds'],
    ['unknown severity', { ...hot, severity: 'apocalyptic' }, 'severity'],
    ['bad source id', { ...hot, source_id: '../etc' }, 'source_id'],
    ['tags as a list', { ...hot, tags: ['a'] }, 'tags'],
    ['tag of an object', { ...hot, tags: { a: { b: 1 } } }, 'a'],
    ['a tag key of 129 characters', { ...hot, tags: { ['k'.repeat(129)]: 1 } }, 'tags'],
    ['a tag key with a control character', { ...hot, tags: { 'k\u0001': { deep: 1 } } }, 'tags'],
    ['33 tags', { ...hot, tags: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) }, 'tags'],
    ['ftp webhook', { ...hot, webhooks: [{ url: 'ftp://x.example' }] }, 'url'],
    ['9 webhooks', { ...hot, webhooks: Array.from({ length: 9 }, () => ({ url: 'https://x.example' })) }, 'webhooks'],
    ['silenced_until not a time', { ...hot, silenced_until: 'tomorrow' }, 'silenced_until'],
    ['enabled as text', { ...hot, enabled: 'yes' }, 'enabled'],
    ['an unknown field', { ...hot, owner: 'me' }, 'owner'],
    ['org_id (not a rule field)', { ...hot, org_id: OTHER_ORG }, 'org_id'],
  ] as Array<[string, unknown, string | RegExp]>)('POST with %s: 400 INVALID_BODY naming the field', async (_, body, field) => {
    await refused(await call('POST', '/api/rules', body), 400, 'INVALID_BODY', field);
  });

  it.each([
    ['a threshold rule without a metric', { name: 'x', condition: { type: 'above', threshold: 1 } }, 'metric'],
    ['a no_data rule with a null metric', { name: 'x', metric: null, condition: { type: 'no_data', seconds: 5 } }, 'metric'],
    ['an offline rule with a metric', { name: 'x', metric: 'm', condition: { type: 'offline', seconds: 5 } }, 'metric'],
    ['an offline rule with tags', { name: 'x', tags: { a: 1 }, condition: { type: 'offline', seconds: 5 } }, 'tags'],
    ['a range with low > high', { name: 'x', metric: 'm', condition: { type: 'inside', low: 5, high: 1 } }, 'condition'],
    ['a silence on a day that does not exist', { ...hot, silenced_until: '2026-13-45T10:00:00Z' }, 'silenced_until'],
  ])('POST with %s: 400 INVALID_BODY naming the field', async (_, body, field) => {
    await refused(await call('POST', '/api/rules', body), 400, 'INVALID_BODY', field);
  });

  it('PATCH checks the patch and the rule it would make, and changes nothing when refused', async () => {
    const rule = await createRule(hot);
    for (const [patch, field] of [
      [{ name: null }, 'name'],
      [{ condition: null }, 'condition'],
      [{ threshold: 5 }, 'threshold'],
      [{ condition: { type: 'offline', seconds: 30 } }, 'metric'],
      [{ metric: null }, 'metric'],
      [{ condition: { type: 'outside', low: 3, high: 2 } }, 'condition'],
      [{ for_seconds: 'soon' }, 'for_seconds'],
    ] as Array<[unknown, string]>) {
      await refused(await call('PATCH', `/api/rules/${rule.id}`, patch), 400, 'INVALID_BODY', field);
    }
    expect(await json<RuleView>(await call('GET', `/api/rules/${rule.id}`), 200)).toEqual(rule);
  });

  it('the dry run checks its body before it is forwarded', async () => {
    await refused(await call('POST', '/api/rules/test', { rule: hot, from: { a: 1 } }), 400, 'INVALID_BODY', 'from');
    await refused(await call('POST', '/api/rules/test', { rule: hot, session_id: '' }), 400, 'INVALID_BODY', 'session_id');
    await refused(await call('POST', '/api/rules/test', { rule: hot, extra: 1 }), 400, 'INVALID_BODY', 'extra');
    await refused(await call('POST', '/api/rules/test', hot), 400, 'INVALID_BODY');
  });

  it('refuses the rule past the per-org limit with 409 CONFLICT', async () => {
    const org = 'alerts-full-org';
    const key = await platform.createKey(['admin'], org);
    await platform.db.query(
      `INSERT INTO alert_rules (id, org_id, name, condition, metric)
       SELECT 'rule_full' || i, $1, 'r' || i, '{"type":"above","threshold":1}', 'm' FROM generate_series(1, 10000) AS i`,
      [org],
    );
    await refused(await call('POST', '/api/rules', hot, key), 409, 'CONFLICT');
    await platform.db.query(`DELETE FROM alert_rules WHERE id = 'rule_full1'`);
    const last = await createRule(
      { ...hot, webhooks: Array.from({ length: 8 }, (_, i) => ({ url: `https://h${i}.example/${'p'.repeat(2000)}` })) },
      key,
    );
    // 10,000 rules are far more than one NATS message holds: the list comes in pages, all of them here, in order.
    const { rules } = await json<{ rules: RuleView[] }>(await call('GET', '/api/rules', undefined, key), 200);
    expect(rules).toHaveLength(10_000);
    expect(new Set(rules.map((rule) => rule.id)).size).toBe(10_000);
    expect(rules.at(-1)).toMatchObject({
      id: last.id,
      webhooks: expect.arrayContaining([expect.objectContaining({ url: last.webhooks[0].url })]),
    });
    expect(rules.every((rule) => rule.org_id === org)).toBe(true);
  });
});

describe('hostile bodies, paths and queries: 4xx, never 5xx', () => {
  it.each([
    ['NUL in the name', '{"name":"a\\u0000b","metric":"m","condition":{"type":"above","threshold":1}}', 'name'],
    [
      'a lone surrogate in a tag key',
      '{"name":"x","metric":"m","tags":{"k\\ud800":1},"condition":{"type":"above","threshold":1}}',
      'tags["k\\ud800"]',
    ],
    ['a lone surrogate in the metric', '{"name":"x","metric":"\\udfff","condition":{"type":"above","threshold":1}}', 'metric'],
    [
      'NUL in a webhook url',
      '{"name":"x","metric":"m","condition":{"type":"above","threshold":1},"webhooks":[{"url":"https://a\\u0000"}]}',
      'webhooks[0].url',
    ],
  ])('%s: 400 INVALID_BODY naming it', async (_, body, field) => {
    const answer = await refused(await call('POST', '/api/rules', body), 400, 'INVALID_BODY', field);
    expect(answer.message).toMatch(/must not contain NUL|valid Unicode/);
  });

  it('refuses huge, deep, poisoned and mistyped bodies on every body route', async () => {
    const rule = await createRule(hot);
    const bodies = [
      deepJson(10_000),
      `{"name":${deepJson(100)}}`,
      JSON.stringify({ ...hot, name: 'x'.repeat(70_000) }),
      JSON.stringify({ ...hot, metric: 'm'.repeat(300) }),
      JSON.stringify({ ...hot, webhooks: [{ url: `https://x.example/${'a'.repeat(3000)}` }] }),
      JSON.stringify({ ...hot, tags: { ['k'.repeat(200)]: 1 } }),
      '{"name":"x","metric":"m","condition":{"type":"above","threshold":1e400}}',
      '{"__proto__":{"admin":true},"name":"x","metric":"m","condition":{"type":"above","threshold":1}}',
      '{"constructor":{"prototype":{"x":1}},"name":"x"}',
      '{"name":"x","condition":{"type":"above","threshold":1,"__proto__":{"a":1}}}',
      'null',
      '[]',
      '"rule"',
      '42',
      '{"name":',
      '',
    ];
    for (const [method, path] of [
      ['POST', '/api/rules'],
      ['PATCH', `/api/rules/${rule.id}`],
      ['POST', '/api/rules/test'],
    ]) {
      for (const body of bodies) {
        const response = await call(method, path, body);
        const text = await response.text();
        expect({ method, path, body: body.slice(0, 60), status: response.status }).toEqual({
          method,
          path,
          body: body.slice(0, 60),
          status: 400,
        });
        expect(JSON.parse(text)).toMatchObject({ code: 'INVALID_BODY' });
      }
    }
    expect(await json<RuleView>(await call('GET', `/api/rules/${rule.id}`), 200)).toEqual(rule);
  });

  it('refuses NUL and bad encodings in paths and queries', async () => {
    for (const [method, path] of [
      ['GET', '/api/rules/%00'],
      ['PATCH', '/api/rules/%00'],
      ['DELETE', '/api/rules/%00'],
      ['POST', '/api/alerts/%00/ack'],
      ['GET', '/api/alerts?cursor=%00'],
      ['GET', '/api/alerts?rule_id=%00'],
      ['GET', '/api/alerts?source_id=..%2Fx'],
      ['GET', '/api/alerts?state=open'],
      ['GET', '/api/alerts?limit=0'],
      ['GET', '/api/alerts?limit=1001'],
      ['GET', '/api/alerts?limit=abc'],
      ['GET', '/api/alerts?cursor=bm90IGEgY3Vyc29y'],
      ['GET', `/api/alerts?cursor=${Buffer.from(JSON.stringify(['2026-99-99 00:00:00+00', 'alr_x'])).toString('base64url')}`],
      ['GET', `/api/alerts?cursor=${Buffer.from(JSON.stringify(['x', 1])).toString('base64url')}`],
      ['GET', `/api/rules/%E0%A4%A`],
    ]) {
      const response = await call(method, path, method === 'PATCH' ? { name: 'x' } : undefined);
      const answer = (await response.json()) as ErrorAnswer;
      expect({ path, status: response.status, code: answer.code }).toEqual({ path, status: 400, code: 'BAD_REQUEST' });
    }
    for (const path of [`/api/rules/${'r'.repeat(5000)}`, `/api/alerts/${'a'.repeat(5000)}/ack`]) {
      const response = await call(path.endsWith('ack') ? 'POST' : 'GET', path);
      expect({ path: path.slice(0, 20), status: response.status }).toEqual({ path: path.slice(0, 20), status: expect.any(Number) });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
    }
  });
});

/** An alert row, as the evaluator would write it. */
async function insertAlert(
  ruleId: string,
  options: { state: 'firing' | 'resolved'; firedAt: string; sourceId?: string; orgId?: string },
): Promise<string> {
  const id = `alr_${Math.random().toString(36).slice(2, 12)}${Date.now().toString(36)}`;
  await platform.db.query(
    `INSERT INTO alerts (id, org_id, rule_id, rule_name, series_key, source_id, metric, tags, severity, state, value, fired_at, resolved_at)
     VALUES ($1, $2, $3, 'Hot lab', $4, $4, 'temperature', '{"room":"lab"}', 'warning', $5, 31.5, $6, $7)`,
    [
      id,
      options.orgId ?? 'default',
      ruleId,
      options.sourceId ?? 'pi-1',
      options.state,
      options.firedAt,
      options.state === 'resolved' ? new Date(Date.parse(options.firedAt) + 60_000) : null,
    ],
  );
  return id;
}

describe('alerts: list and acknowledge', () => {
  let ruleId: string;
  let otherRuleId: string;
  const ids: string[] = [];

  beforeAll(async () => {
    await platform.db.query(`DELETE FROM alerts`);
    ruleId = (await createRule(hot)).id;
    otherRuleId = (await createRule({ ...hot, name: 'other' })).id;
    // Two alerts at the same instant: the id breaks the tie, and paging must not skip or repeat either.
    ids.push(await insertAlert(ruleId, { state: 'resolved', firedAt: '2026-11-01T10:00:00.000001Z' }));
    ids.push(await insertAlert(ruleId, { state: 'firing', firedAt: '2026-11-01T11:00:00.123456Z' }));
    ids.push(await insertAlert(ruleId, { state: 'firing', firedAt: '2026-11-01T11:00:00.123456Z', sourceId: 'pi-2' }));
    ids.push(await insertAlert(otherRuleId, { state: 'firing', firedAt: '2026-11-01T12:00:00Z' }));
    ids.push(await insertAlert(otherRuleId, { state: 'resolved', firedAt: '2026-11-01T09:00:00Z', sourceId: 'pi-2' }));
  });

  type Page = { alerts: AlertView[]; firing: number; next_cursor: string | null };

  it('lists newest first with the firing count, filtered by state, rule and source', async () => {
    const all = await json<Page>(await call('GET', '/api/alerts', undefined, readKey), 200);
    expect(all.firing).toBe(3);
    expect(all.next_cursor).toBeNull();
    expect(all.alerts.map((alert) => alert.fired_at)).toEqual([
      '2026-11-01T12:00:00.000Z',
      '2026-11-01T11:00:00.123Z',
      '2026-11-01T11:00:00.123Z',
      '2026-11-01T10:00:00.000Z',
      '2026-11-01T09:00:00.000Z',
    ]);
    expect(all.alerts[0]).toMatchObject({
      id: ids[3],
      org_id: 'default',
      rule_id: otherRuleId,
      rule_name: 'Hot lab',
      source_id: 'pi-1',
      metric: 'temperature',
      tags: { room: 'lab' },
      severity: 'warning',
      state: 'firing',
      value: 31.5,
      resolved_at: null,
      acknowledged_at: null,
      acknowledged_by: null,
    });
    const firing = await json<Page>(await call('GET', '/api/alerts?state=firing'), 200);
    expect(firing.alerts.map((alert) => alert.id).sort()).toEqual([ids[1], ids[2], ids[3]].sort());
    const resolved = await json<Page>(await call('GET', '/api/alerts?state=resolved'), 200);
    expect(resolved.alerts.map((alert) => alert.id)).toEqual([ids[0], ids[4]]);
    expect(resolved.firing).toBe(3);
    const byRule = await json<Page>(await call('GET', `/api/alerts?rule_id=${otherRuleId}`), 200);
    expect(byRule.alerts.map((alert) => alert.id)).toEqual([ids[3], ids[4]]);
    const bySource = await json<Page>(await call('GET', '/api/alerts?source_id=pi-2&state=all'), 200);
    expect(bySource.alerts.map((alert) => alert.id)).toEqual([ids[2], ids[4]]);
  });

  it('pages with a cursor through every alert once, ties at the same microsecond included', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = await json<Page>(await call('GET', `/api/alerts?limit=1${cursor ? `&cursor=${cursor}` : ''}`), 200);
      seen.push(...page.alerts.map((alert) => alert.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(5);
    const all = await json<Page>(await call('GET', '/api/alerts'), 200);
    expect(seen).toEqual(all.alerts.map((alert) => alert.id));
    const two = await json<Page>(await call('GET', '/api/alerts?limit=2'), 200);
    expect(two.alerts).toHaveLength(2);
    const rest = await json<Page>(await call('GET', `/api/alerts?limit=1000&cursor=${two.next_cursor}`), 200);
    expect(rest.alerts.map((alert) => alert.id)).toEqual(seen.slice(2));
    expect(rest.next_cursor).toBeNull();
  });

  it('stops a page short of the limit when its alerts are large, and the cursor takes up from there', async () => {
    const org = 'alerts-large-org';
    const key = await platform.createKey(['admin'], org);
    const tags = JSON.stringify(Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`tag${i}`, 'v'.repeat(1000)])));
    await platform.db.query(
      `INSERT INTO alerts (id, org_id, rule_id, rule_name, series_key, source_id, metric, tags, severity, state, fired_at)
       SELECT 'alr_large' || i, $1, 'rule_x', 'big', 's' || i, 'pi-1', 'm', $2::jsonb, 'info', 'firing', now() - i * interval '1 second'
       FROM generate_series(1, 100) AS i`,
      [org, tags],
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = await json<Page>(
        await call('GET', `/api/alerts?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, undefined, key),
        200,
      );
      expect(page.alerts.length).toBeGreaterThan(0);
      seen.push(...page.alerts.map((alert) => alert.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 100);
    expect(pages).toBeGreaterThan(1);
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => `alr_large${i + 1}`));
  });

  it('acknowledges once, by the key that did, and tells the browsers', async () => {
    const { key_id: keyId } = await json<{ key_id: string }>(await call('GET', '/api/auth/verify-key'), 200);
    const acknowledged = await json<AlertView>(await call('POST', `/api/alerts/${ids[1]}/ack`), 200);
    expect(acknowledged).toMatchObject({ id: ids[1], state: 'firing', acknowledged_by: keyId, acknowledged_at: expect.any(String) });
    await waitFor('an acknowledged event', () =>
      alertEvents.find((event) => event.event === 'acknowledged' && event.alert.id === ids[1] && event.org_id === 'default'),
    );
    const otherAdmin = await platform.createKey(['admin']);
    const again = await json<AlertView>(await call('POST', `/api/alerts/${ids[1]}/ack`, undefined, otherAdmin), 200);
    expect(again).toEqual(acknowledged);
    expect(alertEvents.filter((event) => event.event === 'acknowledged' && event.alert.id === ids[1])).toHaveLength(1);
    await refused(await call('POST', '/api/alerts/alr_nope/ack'), 404, 'NOT_FOUND');
  });
});

describe('orgs never see each other', () => {
  it("another org's admin key cannot see, change, delete or acknowledge, and lists only its own", async () => {
    const rule = await createRule({ ...hot, webhooks: [{ url: 'https://a.example/hook' }] });
    const alertId = await insertAlert(rule.id, { state: 'firing', firedAt: '2026-11-02T00:00:00Z' });
    const theirs = await createRule({ ...hot, name: 'theirs' }, otherAdminKey);
    expect(theirs.org_id).toBe(OTHER_ORG);

    await refused(await call('GET', `/api/rules/${rule.id}`, undefined, otherAdminKey), 404, 'NOT_FOUND');
    await refused(await call('PATCH', `/api/rules/${rule.id}`, { name: 'taken' }, otherAdminKey), 404, 'NOT_FOUND');
    await refused(await call('DELETE', `/api/rules/${rule.id}`, undefined, otherAdminKey), 404, 'NOT_FOUND');
    await refused(await call('POST', `/api/alerts/${alertId}/ack`, undefined, otherAdminKey), 404, 'NOT_FOUND');
    // Nor can it take a webhook of ours into its rule.
    await refused(
      await call(
        'PATCH',
        `/api/rules/${theirs.id}`,
        { webhooks: [{ id: rule.webhooks[0].id, url: 'https://evil.example' }] },
        otherAdminKey,
      ),
      400,
      'INVALID_BODY',
      'webhooks',
    );

    const { rules } = await json<{ rules: RuleView[] }>(await call('GET', '/api/rules', undefined, otherAdminKey), 200);
    expect(rules.map((listed) => listed.id)).toEqual([theirs.id]);
    const alerts = await json<{ alerts: AlertView[]; firing: number }>(await call('GET', '/api/alerts', undefined, otherAdminKey), 200);
    expect(alerts).toMatchObject({ alerts: [], firing: 0 });
    const filtered = await json<{ alerts: AlertView[] }>(
      await call('GET', `/api/alerts?rule_id=${rule.id}`, undefined, otherAdminKey),
      200,
    );
    expect(filtered.alerts).toEqual([]);

    const ours = await json<RuleView>(await call('GET', `/api/rules/${rule.id}`), 200);
    expect(ours).toEqual({ ...rule, webhooks: [{ id: rule.webhooks[0].id, url: 'https://a.example/hook' }] });
    const { rows } = await platform.db.query(`SELECT acknowledged_at FROM alerts WHERE id = $1`, [alertId]);
    expect(rows[0].acknowledged_at).toBeNull();
    const { rules: ourRules } = await json<{ rules: RuleView[] }>(await call('GET', '/api/rules'), 200);
    expect(ourRules.some((listed) => listed.id === theirs.id)).toBe(false);
  });
});

describe('OpenAPI', () => {
  it('documents every rules and alerts route with its scope, body and answer', async () => {
    const document = (await (await call('GET', '/api/docs', undefined, null)).json()) as {
      paths: Record<
        string,
        Record<
          string,
          {
            security?: unknown;
            requestBody?: { content: Record<string, { schema: { properties?: object } }> };
            responses: Record<string, unknown>;
          }
        >
      >;
    };
    for (const [method, path, scope, body] of [
      ['get', '/api/rules', 'read', false],
      ['post', '/api/rules', 'admin', true],
      ['post', '/api/rules/test', 'read', true],
      ['get', '/api/rules/{ruleId}', 'read', false],
      ['patch', '/api/rules/{ruleId}', 'admin', true],
      ['delete', '/api/rules/{ruleId}', 'admin', false],
      ['get', '/api/alerts', 'read', false],
      ['post', '/api/alerts/{alertId}/ack', 'admin', false],
    ] as Array<[string, string, string, boolean]>) {
      const operation = document.paths[path]?.[method];
      expect({ method, path, security: operation?.security }).toEqual({ method, path, security: [{ 'api-key': [scope] }] });
      if (body) expect(operation.requestBody?.content['application/json'].schema.properties).toBeDefined();
      expect(Object.keys(operation.responses).some((status) => /^2/.test(status))).toBe(true);
    }
    const createBody = document.paths['/api/rules'].post.requestBody?.content['application/json'].schema as { required?: string[] };
    expect(createBody.required).toEqual(expect.arrayContaining(['name', 'condition']));
  });
});

describe('after it all', () => {
  it('no app met an error it did not expect', async () => {
    expect(platform.logs.filter((line) => /unhandled error|INTERNAL|correlation id/.test(line))).toEqual([]);
    const metrics = await (await fetch(`${platform.gateway}/metrics`)).text();
    expect(metrics).not.toMatch(/^plexus_unexpected_errors_total\{[^}]*\} [1-9]/m);
    for (const app of ['pairing', 'gateway', 'alerts']) expect(platform.alive(app)).toBe(true);
  });
});
