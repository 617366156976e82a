import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { replyChunks } from '../libs/common/src/nats/chunk-stream.js';
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
  'sources.list.stream',
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
  // A cursor that names a real org, and the largest listings asked for (orgs.list, audit, keys).
  JSON.stringify({ org_id: 'default', cursor: 'default', limit: 1000 }),
  // A keyset cursor of the right shape (the audit's and the alerts'), whose time PostgreSQL would refuse.
  JSON.stringify({
    org_id: 'default',
    limit: 10,
    cursor: Buffer.from(JSON.stringify(['2026-02-30 00:00:00+00', '00000000-0000-4000-8000-000000000000'])).toString('base64url'),
  }),
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

describe('a forged answer to GET /api/sources (last: it stops the pairing app)', () => {
  /** What the forger does with each list request the gateway makes. */
  let forge: (msg: Msg) => void = () => undefined;

  async function* lines(...texts: string[]): AsyncGenerator<string> {
    yield* texts;
  }

  it('answers 503 naming the problem for every forged or garbled stream, and the gateway lives on', async () => {
    await platform.stopApp('pairing');
    const listed = async () => {
      const response = await platform.api('/api/sources');
      return { status: response.status, body: (await response.json()) as { code?: string; message?: string } };
    };
    // Nobody answers at all.
    expect(await listed()).toMatchObject({
      status: 503,
      body: { code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/no answer/) },
    });

    const forger = nc.subscribe(platform.subject('sources.list.stream'), {
      callback: (error, msg) => {
        if (!error && msg.reply) forge(msg);
      },
    });
    await nc.flush();
    const chunked =
      (...texts: string[]) =>
      (msg: Msg) =>
        void replyChunks(nc, msg.reply!, lines(...texts)).catch(() => undefined);
    const source = {
      source_id: 's1',
      org_id: 'default',
      name: 's1',
      platform: null,
      sensors: [],
      cameras: [],
      created_at: 'x',
      last_seen: null,
    };
    const raw = (kind: string | undefined, body: Uint8Array | string) => (msg: Msg) => {
      const h = headers();
      if (kind) h.set('Plexus-Chunk', kind);
      nc.publish(msg.reply!, body, kind ? { headers: h } : {});
    };
    const cases: Array<[string, (msg: Msg) => void, RegExp]> = [
      ['a line that is not JSON', chunked('not json\n'), /entry 0 is not JSON/],
      ['a source of another org', chunked(`${JSON.stringify({ ...source, org_id: 'other' })}\n`), /entry 0 is not a valid entry/],
      ['a source missing its fields', chunked(`${JSON.stringify(source)}\n{"source_id":"s2"}\n`), /entry 1 is not a valid entry/],
      ['a value past its nesting', chunked(`${deepJson(10_000)}\n`), /entry 0 is not/],
      ['bytes that are not UTF-8, with no chunk header', raw(undefined, Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a])), /not UTF-8/],
      ['an old one-message reply', raw(undefined, JSON.stringify({ response: { sources: [source] } }) + '\n'), /not a valid entry/],
      ['an error that is not a wire error', raw('error', 'garbage'), /could not list the sources \(INTERNAL\)/],
      [
        'an error of another kind',
        raw('error', JSON.stringify({ code: 'NOT_FOUND', message: 'x' })),
        /could not list the sources \(NOT_FOUND\)/,
      ],
      [
        'an endless line',
        (msg) => {
          const piece = 'x'.repeat(256 * 1024);
          async function* endless(): AsyncGenerator<string> {
            for (;;) yield piece;
          }
          void replyChunks(nc, msg.reply!, endless()).catch(() => undefined);
        },
        /larger than 67108864 bytes/,
      ],
    ];
    const answers: Record<string, unknown> = {};
    for (const [name, behaviour] of cases) {
      forge = behaviour;
      const { status, body } = await listed();
      answers[name] = { status, code: body.code, message: body.message };
    }
    forger.unsubscribe();
    expect(answers).toEqual(
      Object.fromEntries(
        cases.map(([name, , message]) => [name, { status: 503, code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(message) }]),
      ),
    );
    expect((await fetch(`http://127.0.0.1:${platform.ports.gateway}/health`)).status).toBe(200);
    expect(await unexpectedErrors(platform.ports.gateway)).toBe(0);
  }, 120_000);
});
