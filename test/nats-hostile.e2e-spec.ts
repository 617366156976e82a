import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { deepJson, HOSTILE_STRINGS } from './support/hostile.js';
import { Platform } from './support/platform.js';

/**
 * The NATS entry points are hostile-input entry points too (an operator's script, a bug in
 * another app): every request subject answered by pairing or ingest, and every event they
 * listen to, gets malformed payloads. Each request is answered (an error packet or a result),
 * and no app dies or counts an unexpected error.
 */
let platform: Platform;
let nc: NatsConnection;

beforeAll(async () => {
  platform = await Platform.start({ apps: ['pairing', 'ingest', 'gateway', 'realtime', 'alerts'] });
  nc = await connect({ servers: platform.env.NATS_URL as string });
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await platform?.stop();
});

const REQUEST_SUBJECTS = [
  'keys.verify',
  'keys.create',
  'keys.list',
  'keys.revoke',
  'pairing.code.create',
  'pairing.code.status',
  'pairing.complete',
  'sources.list',
  'sources.revoke',
  'sources.paired',
  'devices.verify',
  'orgs.create',
  'orgs.list',
  'orgs.disable',
  'audit.command.start',
  'audit.command.list',
  'sessions.create',
  'sessions.update',
  'sessions.list',
  'sessions.get',
  'alerts.rules.create',
  'alerts.rules.list',
  'alerts.rules.get',
  'alerts.rules.update',
  'alerts.rules.delete',
  'alerts.rules.test',
  'alerts.list',
  'alerts.ack',
];
const EVENT_SUBJECTS = ['sources.seen', 'audit.command.finish', 'keys.revoked', 'sources.revoked', 'orgs.disabled', 'alerts.rules.changed'];

const PAYLOADS: string[] = [
  '',
  'not json',
  '{"org_id":',
  'null',
  '[]',
  '42',
  '"default"',
  deepJson(10_000),
  JSON.stringify({ org_id: 'default', id: deepJson(50), session_id: { a: 1 }, source_id: [1], name: null, scopes: 'admin' }),
  ...HOSTILE_STRINGS.map((text) =>
    JSON.stringify({
      org_id: text,
      id: text,
      key_id: text,
      source_id: text,
      session_id: text,
      code: text,
      name: text,
      key_hash: text,
      token_hash: text,
      command: text,
    }),
  ),
  // The alerts app's fields apart: with the fields above, one payload would pass NATS's 1 MiB bound.
  ...HOSTILE_STRINGS.map((text) =>
    JSON.stringify({
      org_id: 'default',
      rule_id: text,
      alert_id: text,
      by: text,
      cursor: text,
      rule: { name: text, metric: text, condition: { type: 'above', threshold: 1 }, tags: { [text]: 1 }, webhooks: [{ url: text }] },
      patch: { name: text, source_id: text, silenced_until: text },
    }),
  ),
  JSON.stringify({ org_id: 'default', rule: { name: 'n', metric: 'm', condition: { type: 'inside', low: 2, high: 1 } } }),
  JSON.stringify({ org_id: 'no-such-org', rule: { name: 'n', metric: 'm', condition: { type: 'above', threshold: 1 } } }),
  JSON.stringify({ org_id: 'default', rule_id: 'rule_AAAAAAAAAAAAAAAAAAAA', patch: { webhooks: [{ id: 'whk_x', url: 'https://x' }] } }),
  JSON.stringify({ org_id: 'default', alert_id: 'alr_x', by: 'k', state: 'open', limit: 1e9, cursor: 'eyJ4Ijox' }),
  '{"org_id":"default","rule":{"__proto__":{"name":"n"}},"patch":[],"limit":"5"}',
  JSON.stringify({ org_id: 'default', limit: -1, cursor: '\u0000', status: 'x'.repeat(10_000) }),
];

async function unexpectedErrors(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return [...text.matchAll(/^plexus_unexpected_errors_total\{[^}]*\} (\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}

describe('hostile NATS payloads', () => {
  it(`answers ${REQUEST_SUBJECTS.length * PAYLOADS.length} malformed requests and survives malformed events`, async () => {
    const unanswered: string[] = [];
    for (const subject of REQUEST_SUBJECTS) {
      for (const [index, payload] of PAYLOADS.entries()) {
        const answer = await nc.request(platform.subject(subject), payload, { timeout: 5000 }).then(
          (reply) => reply.string(),
          (error: Error) => `no answer: ${error.message}`,
        );
        if (answer.startsWith('no answer')) unanswered.push(`${subject} #${index}: ${answer}`);
      }
    }
    for (const subject of EVENT_SUBJECTS) for (const payload of PAYLOADS) nc.publish(platform.subject(subject), payload);
    await nc.flush();
    expect(unanswered).toEqual([]);
    expect(platform.logs.filter((line) => line.startsWith('alerts |') && line.includes('unhandled error'))).toEqual([]);
    for (const port of [
      platform.ports.gateway,
      platform.ports.realtime,
      platform.ports.ingest,
      platform.ports.pairing,
      platform.ports.alerts,
    ]) {
      expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
      expect(await unexpectedErrors(port)).toBe(0);
    }
    // The org `default` and its admin key are untouched by it all.
    expect((await platform.api('/api/keys')).status).toBe(200);
  }, 240_000);
});
