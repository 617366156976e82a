import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import type { AlertView } from '#common';
import { mediumScope } from '../../../../test/support/medium.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import type { AlertsConfig as Config } from '../config.js';
import type { AlertsSecret as Secret } from './alerts-secret.js';
import type { WebhookDispatcher as Dispatcher } from './webhook-dispatcher.service.js';

// Medium: the webhook outbox and its dispatcher on the real PostgreSQL, sending to receivers of
// this file's own (node:http on 127.0.0.1). Rules, webhooks and alerts are arranged by SQL as the
// migration defines them; each dispatcher is a Nest module of its own (config, database,
// WebhooksModule), so "another instance" and "a restart" are new modules on the same database.

const scope = await mediumScope();
const { ConfigModule, DatabaseModule } = await import('#common');
const { AlertsConfig, readAlertsConfig } = await import('../config.js');
const { WebhooksModule } = await import('./webhooks.module.js');
const { WebhookDispatcher } = await import('./webhook-dispatcher.service.js');
const { AlertsSecret } = await import('./alerts-secret.js');
const { enqueueWebhooks } = await import('./outbox.js');
const { newWebhookSalt, webhookSecret } = await import('./webhook-secret.js');

// Everything the dispatchers log, to show that no secret and no body is ever in it.
const logged: { level: string; text: string }[] = [];
const capture: LoggerService = {
  log: (message: unknown) => logged.push({ level: 'log', text: String(message) }),
  warn: (message: unknown) => logged.push({ level: 'warn', text: String(message) }),
  debug: () => undefined,
  verbose: () => undefined,
  error: (message: unknown, ...rest: unknown[]) => {
    logged.push({ level: 'error', text: [message, ...rest].map(String).join(' ') });
    console.error(message, ...rest);
  },
};
const secretsSeen = new Set<string>();

interface RunningDispatcher {
  dispatcher: Dispatcher;
  secrets: Secret;
  dataSource: DataSource;
  close(): Promise<void>;
}
const running: RunningDispatcher[] = [];

/** One alerts instance's webhook part: its own config (overrides on the file's environment), pool and dispatcher. */
async function startDispatcher(overrides: Partial<Config> = {}): Promise<RunningDispatcher> {
  const module = await Test.createTestingModule({
    imports: [
      ConfigModule.forApp(AlertsConfig, () => ({ ...readAlertsConfig(), ...overrides })),
      DatabaseModule.forRoot([], 3),
      WebhooksModule,
    ],
  })
    .setLogger(capture)
    .compile();
  await module.init();
  let closed = false;
  const instance: RunningDispatcher = {
    dispatcher: module.get(WebhookDispatcher),
    secrets: module.get(AlertsSecret),
    dataSource: module.get(DataSource),
    close: async () => {
      if (closed) return;
      closed = true;
      await module.close();
    },
  };
  running.push(instance);
  return instance;
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  answered: number | 'none';
}
/** A status; 'hang': never answers; 'endless': 200 and a body that never ends; or a redirect. */
type Answer = number | 'hang' | 'endless' | { status: number; location: string };
interface Receiver {
  url: string;
  requests: Received[];
  /** Answers whose connection the client has closed. */
  closedAnswers: number;
  close(): Promise<void>;
}
const receivers: Receiver[] = [];

/** A webhook receiver: `answer(i)` decides the answer to the i-th request (0-based). */
async function receiver(answer: (index: number) => Answer): Promise<Receiver> {
  const requests: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const index = requests.length;
      const decided = answer(index);
      requests.push({
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        answered: typeof decided === 'number' ? decided : decided === 'hang' ? 'none' : decided === 'endless' ? 200 : decided.status,
      });
      response.on('close', () => made.closedAnswers++);
      if (decided === 'hang') return;
      if (decided === 'endless') {
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 120);
        const pump = () => {
          while (!response.destroyed && response.write(chunk));
          if (!response.destroyed) response.once('drain', pump);
        };
        pump();
        return;
      }
      if (typeof decided === 'number') response.writeHead(decided, { 'content-type': 'text/plain' }).end('noted');
      else response.writeHead(decided.status, { location: decided.location }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const made: Receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/plexus?team=ops`,
    requests,
    closedAnswers: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  receivers.push(made);
  return made;
}

afterEach(async () => {
  for (const instance of running.splice(0)) await instance.close();
  for (const made of receivers.splice(0)) await made.close();
  // Each test starts from an empty outbox: a delivery left pending must not reach the next test's dispatchers.
  await scope.db.query(`DELETE FROM webhook_deliveries`);
});
scope.onTeardown(async () => {
  for (const instance of running.splice(0)) await instance.close();
  for (const made of receivers.splice(0)) await made.close();
});

await scope.db.query(`INSERT INTO orgs (id, name) VALUES ('default', 'Default'), ('other', 'Other') ON CONFLICT DO NOTHING`);

let sequence = 0;
interface Webhook {
  id: string;
  salt: string;
  url: string;
}

/** A rule of `org` with one webhook per url. */
async function ruleWithWebhooks(urls: string[], org = 'default'): Promise<{ rule: { id: string; name: string }; webhooks: Webhook[] }> {
  const rule = { id: `rule_t${++sequence}`, name: `Lab too hot ${sequence}` };
  await scope.db.query(
    `INSERT INTO alert_rules (id, org_id, name, metric, condition) VALUES ($1, $2, $3, 'temperature', '{"type":"above","threshold":30}')`,
    [rule.id, org, rule.name],
  );
  const webhooks: Webhook[] = [];
  for (const url of urls) {
    const webhook = { id: `whk_t${++sequence}`, salt: newWebhookSalt(), url };
    await scope.db.query(`INSERT INTO alert_webhooks (id, rule_id, org_id, url, salt) VALUES ($1, $2, $3, $4, $5)`, [
      webhook.id,
      rule.id,
      org,
      webhook.url,
      webhook.salt,
    ]);
    webhooks.push(webhook);
  }
  return { rule, webhooks };
}

/** A firing alert of the rule, stored as the evaluator stores one. */
async function firingAlert(rule: { id: string; name: string }, org = 'default'): Promise<AlertView> {
  const alert: AlertView = {
    id: `alr_t${++sequence}`,
    org_id: org,
    rule_id: rule.id,
    rule_name: rule.name,
    source_id: 'rig-1',
    metric: 'temperature',
    tags: { room: 'lab' },
    severity: 'warning',
    state: 'firing',
    value: 31.5,
    fired_at: new Date().toISOString(),
    resolved_at: null,
    acknowledged_at: null,
    acknowledged_by: null,
  };
  await scope.db.query(
    `INSERT INTO alerts (id, org_id, rule_id, rule_name, series_key, source_id, metric, tags, severity, state, value, fired_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      alert.id,
      org,
      rule.id,
      rule.name,
      'rig-1|temperature|room=lab',
      alert.source_id,
      alert.metric,
      alert.tags,
      alert.severity,
      alert.state,
      alert.value,
      alert.fired_at,
    ],
  );
  return alert;
}

/** The test's pool as the outbox's query interface (a pg pool answers a result with `rows`). */
const pool = { query: (sql: string, params?: unknown[]) => scope.db.query(sql, params) };

interface DeliveryRow {
  id: string;
  webhook_id: string;
  event: string;
  body: string;
  status: string;
  attempts: number;
  delivered_at: Date | null;
  created_at: Date;
}
async function deliveries(alertId: string): Promise<DeliveryRow[]> {
  const { rows } = await scope.db.query(`SELECT * FROM webhook_deliveries WHERE alert_id = $1 ORDER BY webhook_id, event`, [alertId]);
  return rows;
}
interface AttemptRow {
  attempt: number;
  at: Date;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}
async function attempts(deliveryId: string): Promise<AttemptRow[]> {
  const { rows } = await scope.db.query(
    `SELECT attempt, at, status_code, error, duration_ms FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt`,
    [deliveryId],
  );
  return rows;
}
async function deliveredOne(alertId: string): Promise<DeliveryRow> {
  let seen: unknown;
  return waitFor(
    `the delivery of ${alertId} to be delivered`,
    async () => {
      const [row] = await deliveries(alertId);
      seen = row && { status: row.status, attempts: await attempts(row.id) };
      return row?.status === 'delivered' ? row : undefined;
    },
    20_000,
    () => `last seen: ${JSON.stringify(seen)}`,
  );
}

const hmacHex = (key: string, body: string) => createHmac('sha256', key).update(body, 'utf8').digest('hex');

describe('enqueueWebhooks (the outbox)', () => {
  it('enqueues one delivery per webhook of the rule with the fixed body; a replayed transition enqueues nothing more', async () => {
    const { rule, webhooks } = await ruleWithWebhooks(['http://127.0.0.1:9/a', 'https://example.com/b']);
    const alert = await firingAlert(rule);
    expect(await enqueueWebhooks(pool, 'fired', alert, rule)).toBe(2);
    expect(await enqueueWebhooks(pool, 'fired', alert, rule)).toBe(0);
    const stored = await deliveries(alert.id);
    expect(stored.map((row) => [row.webhook_id, row.event, row.status, row.attempts])).toEqual(
      webhooks.map((webhook) => [webhook.id, 'fired', 'pending', 0]),
    );
    for (const row of stored) {
      expect(row.id).toMatch(/^dlv_[A-Za-z0-9]{20}$/);
      const body = JSON.parse(row.body);
      expect(Object.keys(body)).toEqual(['event', 'delivery_id', 'alert', 'rule', 'at']);
      expect(body).toEqual({ event: 'fired', delivery_id: row.id, alert, rule, at: alert.fired_at });
    }
    expect(new Set(stored.map((row) => row.id)).size).toBe(2);

    // Resolving is another transition: one more delivery per webhook, at the resolve time.
    const resolved: AlertView = { ...alert, state: 'resolved', resolved_at: new Date(Date.parse(alert.fired_at) + 60_000).toISOString() };
    expect(await enqueueWebhooks(pool, 'resolved', resolved, rule)).toBe(2);
    expect(await enqueueWebhooks(pool, 'resolved', resolved, rule)).toBe(0);
    const after = await deliveries(alert.id);
    expect(after).toHaveLength(4);
    for (const row of after.filter((r) => r.event === 'resolved')) {
      expect(JSON.parse(row.body)).toMatchObject({ event: 'resolved', delivery_id: row.id, at: resolved.resolved_at });
    }
  });

  it('is part of the caller transaction: rolled back with it, committed with it (TypeORM and pg alike)', async () => {
    const { rule } = await ruleWithWebhooks(['http://127.0.0.1:9/tx']);
    const alert = await firingAlert(rule);
    const client = await scope.db.connect();
    try {
      await client.query('BEGIN');
      expect(await enqueueWebhooks(client, 'fired', alert, rule)).toBe(1);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await deliveries(alert.id)).toEqual([]);

    const { dataSource } = await startDispatcher();
    // The evaluator's way: a TypeORM transaction (this dispatcher's attempts at the closed port do not matter here).
    await dataSource.transaction(async (manager) => {
      expect(await enqueueWebhooks(manager, 'fired', alert, rule)).toBe(1);
    });
    expect(await deliveries(alert.id)).toHaveLength(1);
    await expect(dataSource.transaction((manager) => enqueueWebhooks(manager, 'fired', alert, rule))).resolves.toBe(0);
  });

  it('enqueues nothing for an alert of another org than the rule, nor for a rule without webhooks', async () => {
    const { rule } = await ruleWithWebhooks(['http://127.0.0.1:9/mine']);
    const foreign = await firingAlert(rule, 'other');
    expect(await enqueueWebhooks(pool, 'fired', foreign, rule)).toBe(0);
    const { rule: quiet } = await ruleWithWebhooks([]);
    expect(await enqueueWebhooks(pool, 'fired', await firingAlert(quiet), quiet)).toBe(0);
    const { rows } = await scope.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries`);
    expect(rows).toEqual([{ n: 0 }]);
  });
});

describe('WebhookDispatcher', () => {
  it('POSTs the stored body signed with the webhook secret (derived from the alerts secret kept in settings), once', async () => {
    const hook = await receiver(() => 204);
    const { rule, webhooks } = await ruleWithWebhooks([hook.url]);
    const alert = await firingAlert(rule);
    const { dispatcher, secrets } = await startDispatcher();
    expect(await enqueueWebhooks(pool, 'fired', alert, rule)).toBe(1);
    dispatcher.kick();
    const delivered = await deliveredOne(alert.id);

    const { rows } = await scope.db.query(`SELECT value FROM settings WHERE name = 'alerts_webhook_secret'`);
    expect(rows).toHaveLength(1);
    const alertsSecret = rows[0].value as string;
    const secret = webhookSecret(alertsSecret, webhooks[0].id, webhooks[0].salt);
    secretsSeen.add(alertsSecret).add(secret);
    expect(secrets.secretFor(webhooks[0])).toBe(secret);

    expect(hook.requests).toHaveLength(1);
    const [request] = hook.requests;
    expect(request.body).toBe(delivered.body);
    expect(request.headers).toMatchObject({
      'content-type': 'application/json',
      'plexus-event': 'fired',
      'plexus-delivery': delivered.id,
      'plexus-signature': `sha256=${hmacHex(secret, request.body)}`,
    });
    // A receiver with another secret (another webhook's) would not verify it.
    const other = webhookSecret(alertsSecret, webhooks[0].id, newWebhookSalt());
    expect(request.headers['plexus-signature']).not.toBe(`sha256=${hmacHex(other, request.body)}`);
    expect(JSON.parse(request.body)).toEqual({ event: 'fired', delivery_id: delivered.id, alert, rule, at: alert.fired_at });

    expect(delivered).toMatchObject({ status: 'delivered', attempts: 1, delivered_at: expect.any(Date) });
    expect(await attempts(delivered.id)).toEqual([
      { attempt: 1, at: expect.any(Date), status_code: 204, error: null, duration_ms: expect.any(Number) },
    ]);

    // Delivered: a later pass finds nothing due and sends nothing more.
    await dispatcher.settled();
    await dispatcher.settled();
    expect(hook.requests).toHaveLength(1);
  });

  it('retries a receiver answering 500 twice with backoff, records the 3 attempts, and delivers once on the 200', async () => {
    const hook = await receiver((index) => (index < 2 ? 500 : 200));
    const { rule } = await ruleWithWebhooks([hook.url]);
    const alert = await firingAlert(rule);
    const { dispatcher } = await startDispatcher();
    await enqueueWebhooks(pool, 'fired', alert, rule);
    dispatcher.kick();
    const delivered = await deliveredOne(alert.id);

    expect(hook.requests.map((request) => request.answered)).toEqual([500, 500, 200]);
    // Every retry is the same delivery: same id, same bytes, same signature.
    expect(new Set(hook.requests.map((request) => request.headers['plexus-delivery']))).toEqual(new Set([delivered.id]));
    expect(new Set(hook.requests.map((request) => request.body))).toEqual(new Set([delivered.body]));
    expect(new Set(hook.requests.map((request) => request.headers['plexus-signature'])).size).toBe(1);

    const recorded = await attempts(delivered.id);
    expect(recorded.map((row) => [row.attempt, row.status_code, row.error])).toEqual([
      [1, 500, null],
      [2, 500, null],
      [3, 200, null],
    ]);
    expect(delivered.attempts).toBe(3);
    // The backoff: the second attempt no sooner than 1 s after the first failed, the third 2 s after the second.
    expect(recorded[1].at.getTime() - recorded[0].at.getTime()).toBeGreaterThanOrEqual(1000);
    expect(recorded[2].at.getTime() - recorded[1].at.getTime()).toBeGreaterThanOrEqual(2000);

    await dispatcher.settled();
    expect(hook.requests).toHaveLength(3);
  });

  it('a dispatcher stopped while a webhook fails, and a new one started later, deliver it exactly once (restart)', async () => {
    let failing = true;
    const hook = await receiver(() => (failing ? 503 : 200));
    const { rule } = await ruleWithWebhooks([hook.url]);
    const alert = await firingAlert(rule);
    const first = await startDispatcher();
    await enqueueWebhooks(pool, 'fired', alert, rule);
    first.dispatcher.kick();
    const [pending] = await deliveries(alert.id);
    await waitFor('a failed attempt', async () => (await attempts(pending.id)).length >= 1);
    await first.close();

    // Stopping drained: every request the receiver saw is recorded, none was left in flight.
    const beforeRestart = hook.requests.length;
    expect(beforeRestart).toBeGreaterThanOrEqual(1);
    expect(await attempts(pending.id)).toHaveLength(beforeRestart);
    expect((await deliveries(alert.id))[0]).toMatchObject({ status: 'pending', attempts: beforeRestart });

    failing = false;
    const second = await startDispatcher();
    const delivered = await deliveredOne(alert.id);
    await second.dispatcher.settled();
    expect(hook.requests.map((request) => request.answered)).toEqual([...Array(beforeRestart).fill(503), 200]);
    expect(new Set(hook.requests.map((request) => request.headers['plexus-delivery']))).toEqual(new Set([delivered.id]));
    expect(delivered.attempts).toBe(beforeRestart + 1);
    expect((await attempts(delivered.id)).map((row) => row.status_code)).toEqual([...Array(beforeRestart).fill(503), 200]);
  });

  it('a claim left by an instance that died runs out: the delivery is then sent once, not before', async () => {
    const hook = await receiver(() => 200);
    const { rule } = await ruleWithWebhooks([hook.url]);
    const alert = await firingAlert(rule);
    await enqueueWebhooks(pool, 'fired', alert, rule);
    // What a dead instance leaves: a claim it will never record.
    const { rows } = await scope.db.query(
      `UPDATE webhook_deliveries SET claimed_until = now() + interval '1.5 seconds' WHERE alert_id = $1 RETURNING claimed_until`,
      [alert.id],
    );
    const { dispatcher } = await startDispatcher();
    dispatcher.kick();
    const delivered = await deliveredOne(alert.id);
    const [attempt] = await attempts(delivered.id);
    expect(attempt.at.getTime()).toBeGreaterThanOrEqual((rows[0].claimed_until as Date).getTime());
    await dispatcher.settled();
    expect(hook.requests).toHaveLength(1);
  });

  it('two dispatchers at once deliver each of 20 deliveries exactly once', async () => {
    const hook = await receiver(() => 200);
    const { rule } = await ruleWithWebhooks([hook.url]);
    const alerts: AlertView[] = [];
    for (let i = 0; i < 20; i++) alerts.push(await firingAlert(rule));
    const [a, b] = await Promise.all([startDispatcher(), startDispatcher()]);
    // All 20 appear at once (one commit), then both instances are woken together.
    const client = await scope.db.connect();
    try {
      await client.query('BEGIN');
      for (const alert of alerts) expect(await enqueueWebhooks(client, 'fired', alert, rule)).toBe(1);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    a.dispatcher.kick();
    b.dispatcher.kick();
    await waitFor('20 deliveries delivered', async () => {
      const { rows } = await scope.db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'delivered'`);
      return rows[0].n === 20;
    });
    await Promise.all([a.dispatcher.settled(), b.dispatcher.settled()]);

    expect(hook.requests).toHaveLength(20);
    const ids = hook.requests.map((request) => request.headers['plexus-delivery']);
    expect(new Set(ids).size).toBe(20);
    const { rows } = await scope.db.query(
      `SELECT d.attempts, count(a.*)::int AS recorded FROM webhook_deliveries d LEFT JOIN webhook_attempts a ON a.delivery_id = d.id GROUP BY d.id`,
    );
    expect(rows).toHaveLength(20);
    for (const row of rows) expect(row).toEqual({ attempts: 1, recorded: 1 });
  });

  it('gives up past PLEXUS_WEBHOOK_GIVE_UP_SECONDS: the delivery is marked failed, with a last attempt at the give-up time, and not sent again', async () => {
    const hook = await receiver(() => 500);
    const { rule } = await ruleWithWebhooks([hook.url]);
    const alert = await firingAlert(rule);
    const { dispatcher } = await startDispatcher({ webhookGiveUpSeconds: 1 });
    await enqueueWebhooks(pool, 'fired', alert, rule);
    dispatcher.kick();
    const failed = await waitFor('the delivery to be given up', async () => {
      const [row] = await deliveries(alert.id);
      return row?.status === 'failed' ? row : undefined;
    });
    const recorded = await attempts(failed.id);
    expect(recorded.length).toBe(failed.attempts);
    expect(recorded.length).toBeGreaterThanOrEqual(1);
    expect(recorded.every((row) => row.status_code === 500)).toBe(true);
    expect(recorded.at(-1)!.at.getTime()).toBeGreaterThanOrEqual(failed.created_at.getTime() + 1000);
    expect(failed.delivered_at).toBeNull();
    await dispatcher.settled();
    expect(hook.requests).toHaveLength(recorded.length);
  });

  it('cuts a receiver that never answers at PLEXUS_WEBHOOK_TIMEOUT_MS and records the timeout', async () => {
    const hook = await receiver(() => 'hang');
    const { rule } = await ruleWithWebhooks([hook.url]);
    const alert = await firingAlert(rule);
    const { dispatcher } = await startDispatcher({ webhookTimeoutMs: 300 });
    await enqueueWebhooks(pool, 'fired', alert, rule);
    dispatcher.kick();
    const [row] = await deliveries(alert.id);
    const [attempt] = await waitFor('the timed-out attempt', async () => {
      const recorded = await attempts(row.id);
      return recorded.length >= 1 ? recorded : undefined;
    });
    expect(attempt).toMatchObject({ attempt: 1, status_code: null, error: 'no answer within 300 ms' });
    expect(hook.requests).toHaveLength(1);
    expect((await deliveries(alert.id))[0]).toMatchObject({ status: 'pending', attempts: 1 });
  });

  it('takes a 200 with an endless body as delivered without reading it, and lets the connection go', async () => {
    const hook = await receiver(() => 'endless');
    const { rule } = await ruleWithWebhooks([hook.url]);
    const alert = await firingAlert(rule);
    const { dispatcher } = await startDispatcher();
    await enqueueWebhooks(pool, 'fired', alert, rule);
    dispatcher.kick();
    const delivered = await deliveredOne(alert.id);
    expect(await attempts(delivered.id)).toEqual([expect.objectContaining({ attempt: 1, status_code: 200, error: null })]);
    await waitFor('the endless answer to be cut off by the client', () => hook.closedAnswers === 1);
    expect(hook.requests).toHaveLength(1);
  });

  it('does not follow a redirect: a 307 is a failed attempt and the target never hears of it', async () => {
    const target = await receiver(() => 200);
    const hook = await receiver(() => ({ status: 307, location: target.url }));
    const { rule } = await ruleWithWebhooks([hook.url]);
    const alert = await firingAlert(rule);
    const { dispatcher } = await startDispatcher();
    await enqueueWebhooks(pool, 'fired', alert, rule);
    dispatcher.kick();
    const [row] = await deliveries(alert.id);
    await waitFor('the redirected attempt', async () => (await attempts(row.id)).length >= 1);
    await dispatcher.settled();
    expect(await attempts(row.id)).toEqual([expect.objectContaining({ attempt: 1, status_code: 307, error: 'redirect not followed' })]);
    expect((await deliveries(alert.id))[0]).toMatchObject({ status: 'pending', attempts: 1 });
    expect(hook.requests).toHaveLength(1);
    expect(target.requests).toHaveLength(0);
  });

  it('survives losing the deliveries table (a database outage): logs once, keeps trying, and delivers once it is back', async () => {
    const hook = await receiver(() => 200);
    const { rule } = await ruleWithWebhooks([hook.url]);
    const alert = await firingAlert(rule);
    const { dispatcher } = await startDispatcher();
    const warningsBefore = logged.filter((line) => line.level === 'warn').length;
    await scope.db.query(`ALTER TABLE webhook_deliveries RENAME TO webhook_deliveries_away`);
    try {
      dispatcher.kick();
      await waitFor('the dispatcher to notice', () => dispatcher.failing);
    } finally {
      await scope.db.query(`ALTER TABLE webhook_deliveries_away RENAME TO webhook_deliveries`);
    }
    await enqueueWebhooks(pool, 'fired', alert, rule);
    dispatcher.kick();
    await deliveredOne(alert.id);
    expect(dispatcher.failing).toBe(false);
    expect(hook.requests).toHaveLength(1);
    const warnings = logged.filter((line) => line.level === 'warn').slice(warningsBefore);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].text).toMatch(/cannot claim webhook deliveries/);
  });

  it('logged no secret and no body in any test above', async () => {
    const { rows } = await scope.db.query(`SELECT value FROM settings WHERE name = 'alerts_webhook_secret'`);
    for (const row of rows) secretsSeen.add(row.value as string);
    expect(secretsSeen.size).toBeGreaterThan(0);
    for (const line of logged) {
      for (const secret of secretsSeen) expect(line.text).not.toContain(secret);
      expect(line.text).not.toContain('"delivery_id"');
      expect(line.text).not.toContain('/hooks/plexus');
    }
  });
});
