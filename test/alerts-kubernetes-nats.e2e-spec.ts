/**
 * The platform with NATS set up as deploy/kubernetes/nats.yaml sets it up: every app signs in as
 * its own user, and the alerts user has only the permissions written there. Everywhere else
 * (npm start, compose, the other e2e files) NATS has one unrestricted user, so this is where a
 * subject the alerts app needs but its user may not use would show: a rule made through the API
 * fires and resolves from ingested points, its webhook is delivered signed, and the alerts app
 * logs no permissions violation.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { kubernetesNatsPasswords, kubernetesPrefix, startKubernetesNats } from './support/kubernetes-nats.js';
import type { PrivateNatsServer } from './support/nats-server.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

let nats: PrivateNatsServer;
let platform: Platform;
let receiver: Server;
const deliveries: Delivery[] = [];

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      deliveries.push({ headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  nats = await startKubernetesNats();
  // The subjects in nats.conf's permissions spell the ConfigMap's prefix, so the platform uses it
  // (the NATS server is the test's own: no other test shares the names).
  platform = await Platform.start({ apps: [], natsUrl: nats.url, env: { PLEXUS_NATS_PREFIX: kubernetesPrefix } });
  for (const app of ['pairing', 'ingest', 'alerts', 'realtime', 'gateway'] as const)
    await platform.startCopy(app, app, { NATS_USER: app, NATS_PASSWORD: kubernetesNatsPasswords[app] });
}, 180_000);

afterAll(async () => {
  await platform?.stop();
  await nats?.destroy();
  await new Promise((resolve) => receiver?.close(resolve));
});

describe('alerts with the Kubernetes NATS users', () => {
  it('fires and resolves a rule from ingested points and delivers its signed webhooks', async () => {
    const { port } = receiver.address() as AddressInfo;
    const created = await platform.api('/api/rules', {
      method: 'POST',
      body: JSON.stringify({
        name: 'too hot',
        source_id: 'k8s-dev',
        metric: 'temperature',
        condition: { type: 'above', threshold: 50 },
        for_seconds: 0,
        severity: 'critical',
        webhooks: [{ url: `http://127.0.0.1:${port}/hook` }],
      }),
    });
    expect(created.status).toBe(201);
    const rule = (await created.json()) as { id: string; webhooks: { id: string; secret: string }[] };

    // The rule reaches the evaluators through rules.changed; points before that are judged without
    // it, so keep sending (each one later than the last) until the alert is there.
    let time = Math.floor(Date.now() / 1000);
    const firing = async () => {
      const answer = await platform.api(`/api/alerts?state=firing&rule_id=${rule.id}`);
      return ((await answer.json()) as { alerts: { id: string }[] }).alerts;
    };
    await waitFor('the rule to fire', async () => {
      expect((await platform.ingest([{ metric: 'temperature', value: 80, timestamp: ++time, source_id: 'k8s-dev' }])).status).toBe(200);
      return (await firing()).length === 1;
    });
    await waitFor('the fired webhook', () => deliveries.some((delivery) => delivery.headers['plexus-event'] === 'fired'));

    await waitFor('the rule to resolve', async () => {
      expect((await platform.ingest([{ metric: 'temperature', value: 20, timestamp: ++time, source_id: 'k8s-dev' }])).status).toBe(200);
      return (await firing()).length === 0;
    });
    await waitFor('the resolved webhook', () => deliveries.some((delivery) => delivery.headers['plexus-event'] === 'resolved'));

    // One delivery per transition, each signed with the webhook's secret over the exact body.
    expect(deliveries.map((delivery) => delivery.headers['plexus-event']).sort()).toEqual(['fired', 'resolved']);
    for (const { headers, body } of deliveries) {
      const expected = `sha256=${createHmac('sha256', rule.webhooks[0].secret).update(body).digest('hex')}`;
      expect(headers['plexus-signature']).toBe(expected);
      expect(JSON.parse(body)).toEqual(expect.objectContaining({ rule: { id: rule.id, name: 'too hot' } }));
    }
  });

  it('lists and acknowledges alerts through the alerts app, and its log shows no permissions violation', async () => {
    const listed = await platform.api('/api/alerts?state=all');
    expect(listed.status).toBe(200);
    const { alerts } = (await listed.json()) as { alerts: { id: string }[] };
    expect(alerts.length).toBeGreaterThan(0);
    expect((await platform.api(`/api/alerts/${alerts[0].id}/ack`, { method: 'POST' })).status).toBeLessThan(300);
    expect(platform.logs.filter((line) => /permissions? violation/i.test(line))).toEqual([]);
  });
});
