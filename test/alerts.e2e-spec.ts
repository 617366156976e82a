import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';
import { TestSocket } from './support/ws-client.js';

/*
 * Live evaluation end to end: rules made over HTTP, points through the gateway, ingest and the
 * alert feed, alerts stored, alert frames to browsers, webhooks — and restarts of the alerts app
 * while a rule is pending and while a webhook is failing.
 */

let platform: Platform;
const sockets: TestSocket[] = [];

/** A receiver that answers `status` (changeable) and keeps every request. */
interface Receiver {
  url: string;
  status: number;
  requests: Array<{ headers: IncomingMessage['headers']; body: string; answered: number }>;
  server: Server;
}

async function receiver(): Promise<Receiver> {
  const state = { status: 200, requests: [] as Receiver['requests'] } as Receiver;
  state.server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      state.requests.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), answered: state.status });
      response.writeHead(state.status).end();
    });
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(state.server.address() as { port: number }).port}/hook`;
  return state;
}

const receivers: Receiver[] = [];

beforeAll(async () => {
  platform = await Platform.start({
    env: {
      PLEXUS_ALERTS_LEASE_MS: '2000',
      PLEXUS_ALERTS_RENEW_MS: '500',
      PLEXUS_ALERTS_TICK_MS: '200',
      PLEXUS_PRESENCE_LEASE_MS: '2000',
      PLEXUS_PRESENCE_RENEW_MS: '500',
    },
  });
}, 120_000);

afterAll(async () => {
  for (const socket of sockets) socket.close();
  for (const r of receivers) r.server.close();
  await platform?.stop();
});

/** Rules the running alerts app(s) have loaded, from their metrics. */
async function rulesLoaded(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${platform.ports.alerts}/metrics`)).text();
  const match = /^plexus_alert_rules_evaluated(?:{[^}]*})? (\d+)/m.exec(text);
  return match ? Number(match[1]) : -1;
}

let rulesMade = 0;
async function createRule(rule: Record<string, unknown>, key = platform.adminKey): Promise<Record<string, any>> {
  const response = await platform.api('/api/rules', { method: 'POST', body: JSON.stringify(rule), key });
  const body = (await response.json()) as Record<string, any>;
  if (response.status !== 201) throw new Error(`rule not made: ${response.status} ${JSON.stringify(body)}`);
  rulesMade++;
  // The evaluator has it before any point is sent (rules of every org are in this one app).
  await waitFor('the alerts app to load the rule', async () => (await rulesLoaded()) === rulesMade);
  return body;
}

async function alertsOf(ruleId: string): Promise<Array<Record<string, any>>> {
  const { rows } = await platform.db.query(`SELECT * FROM alerts WHERE rule_id = $1 ORDER BY fired_at`, [ruleId]);
  return rows;
}

async function send(points: Array<Record<string, unknown>>, key = platform.adminKey): Promise<void> {
  const response = await platform.ingest(points, { key });
  expect(response.status).toBe(200);
}

const T0 = 1_780_000_000; // seconds; points carry their own times

describe('threshold rules', () => {
  it('above, below, outside and inside each fire on the crossing point and resolve on the next one inside', async () => {
    const rules = {
      above: await createRule({ name: 'hot', source_id: 'rig-1', metric: 'c_above', condition: { type: 'above', threshold: 80 } }),
      below: await createRule({ name: 'cold', source_id: 'rig-1', metric: 'c_below', condition: { type: 'below', threshold: 10 } }),
      outside: await createRule({ name: 'band', source_id: 'rig-1', metric: 'c_outside', condition: { type: 'outside', low: 0, high: 5 } }),
      inside: await createRule({ name: 'stall', source_id: 'rig-1', metric: 'c_inside', condition: { type: 'inside', low: -1, high: 1 } }),
    };
    const series = (metric: string, values: unknown[]) =>
      values.map((value, i) => ({ source_id: 'rig-1', metric, value, timestamp: T0 + i }));
    await send([
      ...series('c_above', [80, 79, 81, 80]), // 80 is not above 80: fires at 81, resolves at 80
      ...series('c_below', [10, 9.5, 12]),
      ...series('c_outside', [0, 5, 5.01, 3]),
      ...series('c_inside', [2, 1, 'text', 1.5]),
    ]);
    const expected = { above: 81, below: 9.5, outside: 5.01, inside: 1 };
    for (const [name, rule] of Object.entries(rules)) {
      const alerts = await waitFor(`the ${name} alert to resolve`, async () => {
        const rows = await alertsOf(rule.id);
        return rows.length === 1 && rows[0].state === 'resolved' ? rows : undefined;
      });
      expect(alerts[0]).toMatchObject({ source_id: 'rig-1', value: expected[name as keyof typeof expected], org_id: 'default' });
    }
  });

  it('a tag match watches only the series carrying those tags', async () => {
    const rule = await createRule({
      name: 'lab only',
      metric: 'tagged',
      tags: { site: 'lab' },
      condition: { type: 'above', threshold: 1 },
    });
    await send([
      { source_id: 'rig-2', metric: 'tagged', value: 5, timestamp: T0, tags: { site: 'home' } },
      { source_id: 'rig-3', metric: 'tagged', value: 5, timestamp: T0, tags: { site: 'lab', bench: 2 } },
    ]);
    const alerts = await waitFor('the lab alert', async () => ((await alertsOf(rule.id)).length ? alertsOf(rule.id) : undefined));
    await platform.drained();
    expect((await alertsOf(rule.id)).map((alert) => [alert.source_id, alert.tags])).toEqual([['rig-3', { site: 'lab', bench: 2 }]]);
    expect(alerts).toHaveLength(1);
  });

  it('another org’s points never fire this org’s rule, and its alerts are not listed here', async () => {
    const otherKey = await platform.createKey(['admin'], 'other-org');
    const mine = await createRule({ name: 'mine', source_id: 'shared-name', metric: 'iso', condition: { type: 'above', threshold: 0 } });
    const theirs = await createRule(
      { name: 'theirs', source_id: 'shared-name', metric: 'iso', condition: { type: 'above', threshold: 0 } },
      otherKey,
    );
    await send([{ source_id: 'shared-name', metric: 'iso', value: 1, timestamp: T0 }], otherKey);
    await waitFor('their alert', async () => (await alertsOf(theirs.id)).length === 1);
    await platform.drained();
    expect(await alertsOf(mine.id)).toEqual([]);
    const listed = (await (await platform.api('/api/alerts?state=all&limit=1000')).json()) as { alerts: Array<{ rule_id: string }> };
    expect(listed.alerts.map((alert) => alert.rule_id)).not.toContain(theirs.id);
  });
});

describe('the duration, across a restart of the alerts app', () => {
  it('a rule pending when the app is killed fires once, at the first point after the duration, and the browser hears it', async () => {
    const rule = await createRule({
      name: 'sustained',
      source_id: 'rig-4',
      metric: 'temp',
      condition: { type: 'above', threshold: 80 },
      for_seconds: 10,
      severity: 'critical',
    });
    const browser = await TestSocket.open(`ws://127.0.0.1:${platform.ports.realtime}/ws`);
    sockets.push(browser);
    browser.send({ type: 'browser_auth', api_key: platform.adminKey });
    await browser.nextOfType('init');
    const point = (dt: number, value: number) => ({ source_id: 'rig-4', metric: 'temp', value, timestamp: T0 + dt });
    await send([point(0, 85), point(5, 90)]);
    await waitFor(
      'the pending state stored',
      async () => (await platform.count(`SELECT count(*) FROM alert_states WHERE rule_id = $1 AND state = 'pending'`, [rule.id])) === 1,
    );

    await platform.stopApp('alerts', 'SIGKILL');
    await send([point(9, 95)]); // still inside the duration: pending, no alert
    await platform.startApp('alerts');
    await waitFor('the restarted app to evaluate the rule', async () => (await rulesLoaded()) === rulesMade, 30_000);
    await send([point(11, 91), point(12, 92)]); // past the duration: fires once
    const fired = await browser.next((frame) => frame.type === 'alert' && frame.alert.rule_id === rule.id, 30_000);
    expect(fired).toMatchObject({
      event: 'fired',
      alert: { state: 'firing', value: 91, severity: 'critical', source_id: 'rig-4', metric: 'temp' },
    });
    expect(Date.parse(fired.alert.fired_at)).toBe((T0 + 11) * 1000);
    await send([point(13, 20)]);
    await browser.next((frame) => frame.type === 'alert' && frame.alert.rule_id === rule.id && frame.event === 'resolved', 30_000);
    const alerts = await alertsOf(rule.id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ state: 'resolved' });
  }, 90_000);
});

describe('silencing', () => {
  it('a silenced rule keeps state and records its alert, but sends no webhook and no frame until the silence ends', async () => {
    const hook = await receiver();
    receivers.push(hook);
    const rule = await createRule({
      name: 'quiet',
      source_id: 'rig-7',
      metric: 'q',
      condition: { type: 'above', threshold: 1 },
      webhooks: [{ url: hook.url }],
      silenced_until: '2099-01-01T00:00:00Z',
    });
    const browser = await TestSocket.open(`ws://127.0.0.1:${platform.ports.realtime}/ws`);
    sockets.push(browser);
    browser.send({ type: 'browser_auth', api_key: platform.adminKey });
    await browser.nextOfType('init');
    await send([{ source_id: 'rig-7', metric: 'q', value: 5, timestamp: T0 }]);
    await waitFor('the silenced alert recorded', async () => (await alertsOf(rule.id)).length === 1);
    // Unsilenced: the next transition is notified as usual.
    expect((await platform.api(`/api/rules/${rule.id}`, { method: 'PATCH', body: JSON.stringify({ silenced_until: null }) })).status).toBe(
      200,
    );
    await send([{ source_id: 'rig-7', metric: 'q', value: 0, timestamp: T0 + 1 }]);
    const resolved = await browser.next((frame) => frame.type === 'alert' && frame.alert.rule_id === rule.id, 30_000);
    expect(resolved).toMatchObject({ event: 'resolved' });
    await waitFor('the resolution delivered', () => hook.requests.length === 1);
    expect(JSON.parse(hook.requests[0].body)).toMatchObject({ event: 'resolved' });
    expect(browser.frames.filter((frame) => frame.type === 'alert' && frame.alert.rule_id === rule.id)).toHaveLength(1);
    const { rows } = await platform.db.query(`SELECT event FROM webhook_deliveries WHERE webhook_id = $1`, [rule.webhooks[0].id]);
    expect(rows).toEqual([{ event: 'resolved' }]);
  });
});

describe('alert events on NATS', () => {
  it('realtime forwards to browsers only well-formed alert events of the subject’s org, and keeps running after junk', async () => {
    const { connect } = await import('@nats-io/transport-node');
    const nc = await connect({ servers: platform.env.NATS_URL as string });
    const browser = await TestSocket.open(`ws://127.0.0.1:${platform.ports.realtime}/ws`);
    sockets.push(browser);
    browser.send({ type: 'browser_auth', api_key: platform.adminKey });
    await browser.nextOfType('init');
    const subject = platform.subjects.alerts.events('default');
    const alert = { id: 'alr_x', org_id: 'default', rule_id: 'rule_junk', state: 'firing' };
    for (const junk of [
      '',
      'not json',
      'null',
      '[]',
      '{"event":"fired"}',
      JSON.stringify({ event: 'exploded', alert }),
      JSON.stringify({ event: 'fired', alert: { ...alert, org_id: 'other-org' } }),
      JSON.stringify({ event: 'fired', alert: 'string' }),
      JSON.stringify({ event: 'fired', alert: { ...alert, padding: 'x'.repeat(70_000) } }),
      '{"event":"fired","alert":' + '['.repeat(5000) + ']'.repeat(5000) + '}',
      '\u0000\ud800',
    ]) {
      nc.publish(subject, junk);
    }
    nc.publish(platform.subjects.alerts.events('other-org'), JSON.stringify({ event: 'fired', alert: { ...alert, org_id: 'other-org' } }));
    nc.publish(subject, JSON.stringify({ event: 'acknowledged', alert: { ...alert, rule_id: 'rule_good' } }));
    const forwarded = await browser.next((frame) => frame.type === 'alert');
    expect(forwarded).toMatchObject({ type: 'alert', event: 'acknowledged', alert: { rule_id: 'rule_good' } });
    await nc.close();
    expect(browser.frames.filter((frame) => frame.type === 'alert' && frame.alert?.rule_id === 'rule_junk')).toEqual([]);
    expect(platform.alive('realtime')).toBe(true);
  });
});

describe('no_data and offline', () => {
  it('no_data fires when a series stops and resolves when it comes back', async () => {
    const rule = await createRule({ name: 'heartbeat', source_id: 'rig-5', metric: 'hb', condition: { type: 'no_data', seconds: 2 } });
    await send([{ source_id: 'rig-5', metric: 'hb', value: 1 }]);
    await waitFor('no data to fire', async () => (await alertsOf(rule.id)).some((alert) => alert.state === 'firing'), 20_000);
    await send([{ source_id: 'rig-5', metric: 'hb', value: 1 }]);
    await waitFor('no data to resolve', async () => (await alertsOf(rule.id)).every((alert) => alert.state === 'resolved'), 20_000);
  });

  it('offline fires when a paired device has been disconnected for the rule’s seconds and resolves when it is back', async () => {
    const { device_token: token, source_id: sourceId } = await platform.pairDevice('Watched');
    const connect = async () => {
      const device = await TestSocket.open(`ws://127.0.0.1:${platform.ports.realtime}/ws`);
      sockets.push(device);
      device.send({ type: 'device_auth', device_token: token, source_id: sourceId, platform: 'Linux', sensors: [] });
      await device.nextOfType('authenticated');
      return device;
    };
    const device = await connect();
    const rule = await createRule({ name: 'gone', source_id: sourceId, condition: { type: 'offline', seconds: 1 } });
    device.close();
    await waitFor('offline to fire', async () => (await alertsOf(rule.id)).some((alert) => alert.state === 'firing'), 20_000);
    await connect();
    await waitFor('offline to resolve', async () => (await alertsOf(rule.id)).every((alert) => alert.state === 'resolved'), 20_000);
  });
});

describe('webhooks', () => {
  it('a webhook failing across a restart of the alerts app is delivered once it answers, once per transition, signed', async () => {
    const hook = await receiver();
    receivers.push(hook);
    hook.status = 500;
    const rule = await createRule({
      name: 'paged',
      source_id: 'rig-6',
      metric: 'p',
      condition: { type: 'above', threshold: 1 },
      webhooks: [{ url: hook.url }],
    });
    const secret = rule.webhooks[0].secret as string;
    expect(secret).toEqual(expect.any(String));
    await send([{ source_id: 'rig-6', metric: 'p', value: 2, timestamp: T0 }]);
    const recordedAttempts = async () =>
      (
        await platform.db.query(
          `SELECT count(*)::int AS n FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.webhook_id = $1`,
          [rule.webhooks[0].id],
        )
      ).rows[0].n as number;
    // Killed in the backoff after a recorded failure (the next attempt is 1 s later), so normally
    // no attempt is in flight at the kill; see the last assertion for when one is.
    await waitFor('a failed attempt recorded', async () => hook.requests.length >= 1 && (await recordedAttempts()) >= 1);
    await platform.stopApp('alerts', 'SIGKILL');
    await send([{ source_id: 'rig-6', metric: 'p', value: 0, timestamp: T0 + 1 }]);
    await platform.startApp('alerts');
    hook.status = 204;
    await waitFor(
      'both transitions delivered',
      async () => {
        const { rows } = await platform.db.query(`SELECT status FROM webhook_deliveries WHERE webhook_id = $1`, [rule.webhooks[0].id]);
        return rows.length === 2 && rows.every((row) => row.status === 'delivered');
      },
      60_000,
    );
    // One 2xx per transition, and nothing sent for a transition after its 2xx.
    const byDelivery = new Map<string, number[]>();
    for (const request of hook.requests) {
      const id = String(request.headers['plexus-delivery']);
      byDelivery.set(id, [...(byDelivery.get(id) ?? []), request.answered]);
      expect(request.headers['plexus-signature']).toBe(`sha256=${createHmac('sha256', secret).update(request.body).digest('hex')}`);
    }
    expect(byDelivery.size).toBe(2);
    for (const answers of byDelivery.values()) expect(answers.slice(answers.findIndex((status) => status < 300))).toEqual([204]);
    expect(
      hook.requests
        .filter((request) => request.answered === 204)
        .map((request) => JSON.parse(request.body).event)
        .sort(),
    ).toEqual(['fired', 'resolved']);
    // Every request the receiver got is a recorded attempt, except at most the one in flight when
    // the app was killed (a slow machine can stretch the wait above past the 1 s backoff): its
    // answer never came back to be recorded, and it was sent again (docs/alerts.md).
    const unrecorded = hook.requests.length - (await recordedAttempts());
    expect([0, 1]).toContain(unrecorded);
  }, 120_000);
});
