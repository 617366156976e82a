import { beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { type InProcessApp, mediumScope, startInProcess } from '../../../../test/support/medium.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import type { RetentionService as Retention } from '../retention/retention.service.js';
import type { SessionsService as Sessions } from '../sessions/sessions.service.js';

// Medium: the ingest app in process (its whole module) on the real PostgreSQL and NATS —
// JetStream in, rows out; poison messages to the dead-letter stream; sessions; retention.
// Retention is on (1 day) but its timer is left at an hour: the test calls sweep() itself.
const scope = await mediumScope({ PLEXUS_RETENTION_DAYS: '1', PLEXUS_RETENTION_CHECK_SECONDS: '3600', PLEXUS_INGEST_MAX_ATTEMPTS: '2' });
const { AppModule } = await import('../app.module.js');
const { SessionsService } = await import('../sessions/sessions.service.js');
const { RetentionService } = await import('../retention/retention.service.js');
const { BrokerConnection, SharedConfig, TelemetryPublisher } = await import('#common');
const { PointsWriter } = await import('./points-writer.service.js');
const { TelemetryConsumer } = await import('./telemetry-consumer.service.js');

let ingest: InProcessApp;
let publisher: InstanceType<typeof TelemetryPublisher>;
let sessions: Sessions;
let retention: Retention;
let jsm: JetStreamManager;

beforeAll(async () => {
  ingest = await startInProcess(AppModule);
  // The gateway's publisher on the ingest app's connection: the same stream, subject and envelope.
  publisher = new TelemetryPublisher(ingest.get(BrokerConnection), ingest.get(SharedConfig));
  await publisher.onModuleInit();
  sessions = ingest.get(SessionsService);
  retention = ingest.get(RetentionService);
  jsm = await jetstreamManager(await scope.nats());
});
scope.onTeardown(() => ingest?.close());

const now = () => Math.floor(Date.now() / 1000);

async function send(orgId: string, points: Record<string, unknown>[]): Promise<void> {
  await publisher.publish(orgId, { points: points as never, receivedAtUs: Date.now() * 1000 }, { correlationId: 'medium' });
}

async function stored(sourceId: string): Promise<{ metric: string; value_num: number | null; value_json: unknown; session_id: string }[]> {
  const { rows } = await scope.db.query(
    `SELECT s.metric, p.value_num, p.value_json, s.session_id FROM points p JOIN series s ON s.id = p.series_id
      WHERE s.source_id = $1 ORDER BY p.time`,
    [sourceId],
  );
  return rows;
}

describe('ingest: JetStream → PostgreSQL (real NATS and PostgreSQL)', () => {
  it('stores every point of a published request, numbers and other JSON values alike, under its org', async () => {
    const t = now();
    await send('default', [
      { metric: 'temp', value: 21.5, timestamp: t, source_id: 'pipe-1' },
      { metric: 'temp', value: 22, timestamp: t + 1, source_id: 'pipe-1' },
      { metric: 'state', value: { mode: 'idle' }, timestamp: t + 2, source_id: 'pipe-1', session_id: 'run-1' },
    ]);
    const rows = await waitFor('3 points stored', async () => {
      const found = await stored('pipe-1');
      return found.length === 3 && found;
    });
    expect(rows).toEqual([
      { metric: 'temp', value_num: 21.5, value_json: null, session_id: '' },
      { metric: 'temp', value_num: 22, value_json: null, session_id: '' },
      { metric: 'state', value_num: null, value_json: { mode: 'idle' }, session_id: 'run-1' },
    ]);
    const { rows: orgs } = await scope.db.query(`SELECT DISTINCT org_id FROM series WHERE source_id = 'pipe-1'`);
    expect(orgs).toEqual([{ org_id: 'default' }]);
  });

  it('feeds each committed batch to the alerts app as a summary of its series, its id naming the telemetry sequences', async () => {
    const feed = `${scope.prefix}_ALERT_FEED`;
    const before = (await jsm.streams.info(feed)).state.last_seq;
    const at = now();
    await send('org.with dots', [
      { metric: 'fed', value: 7, timestamp: at, source_id: 'pipe-feed' },
      { metric: 'fed', value: -2.5, timestamp: at + 1, source_id: 'pipe-feed' },
      { metric: 'fed', value: 'text', timestamp: at + 2, source_id: 'pipe-feed' },
    ]);
    await waitFor('the points stored', async () => (await stored('pipe-feed')).length === 3);
    const fed = await waitFor('the batch fed', async () => {
      const info = await jsm.streams.info(feed);
      return info.state.last_seq > before && info.state.last_seq;
    });
    const message = await jsm.streams.getMessage(feed, { seq: fed });
    const { subjectsFor, decodeFeedSummary } = await import('#common');
    expect(message!.subject).toBe(subjectsFor(scope.prefix).alerts.feed('org.with dots'));
    expect(message!.subject).toMatch(/\.alertfeed(\.[01]){6}\.org%002ewith%0020dots$/);
    expect(message!.header?.get('Plexus-Encoding')).toBe('plexus-feed-2');
    const { rows } = await scope.db.query(`SELECT id FROM series WHERE source_id = 'pipe-feed'`);
    const us = (t: number) => Math.round(t * 1e6);
    expect(decodeFeedSummary(message!.data)).toEqual({
      orgId: 'org.with dots',
      series: [
        {
          seriesId: Number(rows[0].id),
          sourceId: 'pipe-feed',
          metric: 'fed',
          tags: '',
          count: 3,
          firstUs: us(at),
          latestUs: us(at + 2),
          numbers: 2,
          min: -2.5,
          max: 7,
          latestNumberUs: us(at + 1),
        },
      ],
    });
    // The message id names the telemetry sequences: a batch written again feeds nothing new.
    expect(message!.header?.get('Nats-Msg-Id')).toMatch(/^s\d+-[A-Za-z0-9_-]{22}-0$/);
  });

  it('keeps two pull requests open at once, so one whose end the server never announced stalls nothing', async () => {
    // nats-server ended a pull now and then without the client hearing of it (docs/architecture.md,
    // "How a point travels", 4); with a second pull open the other keeps taking messages meanwhile.
    const { CONSUMERS } = await import('#common');
    await waitFor(
      'two pull requests waiting at the server',
      async () => (await jsm.consumers.info(`${scope.prefix}_TELEMETRY`, CONSUMERS.ingestWriter)).num_waiting === 2,
    );
    await send('default', [{ metric: 'after', value: 1, timestamp: now(), source_id: 'pipe-pulls' }]);
    await waitFor('the point stored', async () => (await stored('pipe-pulls')).length === 1);
  });

  describe('two writers', () => {
    /** Holds the next transaction until released; counts transactions in flight and their messages. */
    function holdWriter() {
      const writer = ingest.get(PointsWriter);
      const original = writer.writeRuns.bind(writer);
      const seen = { inFlight: 0, most: 0, messages: [] as number[] };
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let held = false;
      writer.writeRuns = async (messages) => {
        seen.inFlight++;
        seen.most = Math.max(seen.most, seen.inFlight);
        seen.messages.push(messages.length);
        try {
          if (!held) {
            held = true;
            await gate;
          }
          return await original(messages);
        } finally {
          seen.inFlight--;
        }
      };
      return { seen, release, restore: () => (writer.writeRuns = original) };
    }
    const buffered = () => (ingest.get(TelemetryConsumer) as unknown as { buffer: unknown[] }).buffer.length;

    /** Runs `body` while the transaction of a first one-point request (metric = source) is held open. */
    async function whileHeld(source: string, body: (hold: ReturnType<typeof holdWriter>, t: number) => Promise<void>): Promise<void> {
      const hold = holdWriter();
      try {
        const t = now();
        await send('default', [{ metric: source, value: 0, timestamp: t, source_id: source }]);
        await waitFor('the first transaction held', () => hold.seen.inFlight === 1);
        await body(hold, t);
      } finally {
        hold.release();
        hold.restore();
      }
    }

    it('do not split a small backlog: what arrives during a transaction goes into the next one whole', async () => {
      await whileHeld('pipe-group', async (hold, t) => {
        for (let i = 1; i <= 3; i++) await send('default', [{ metric: 'pipe-group', value: i, timestamp: t + i, source_id: 'pipe-group' }]);
        // The three wait in the buffer for the held transaction; the other writer does not take them.
        await waitFor('three messages waiting', () => buffered() === 3);
        expect(hold.seen.most).toBe(1);
        hold.release();
        await waitFor('the 4 points stored', async () => (await stored('pipe-group')).length === 4);
        expect(hold.seen.messages).toEqual([1, 3]);
      });
    });

    it('share a backlog of half a batch or more: a second transaction starts beside the held one', async () => {
      await whileHeld('pipe-backlog', async (hold, t) => {
        // 12 requests of 6,000 numeric points: ~1.2 MB of messages, past half of the 2 MiB batch.
        for (let r = 0; r < 12; r++) {
          const points = Array.from({ length: 6000 }, (_, i) => ({
            metric: 'pipe-backlog',
            value: i,
            timestamp: t + 1 + r * 6000 + i,
            source_id: 'pipe-backlog',
          }));
          await send('default', points);
        }
        await waitFor('a second transaction beside the held one', () => hold.seen.most === 2);
        hold.release();
        await waitFor('every point stored', async () => (await stored('pipe-backlog')).length === 1 + 12 * 6000, 30_000);
      });
    });

    it('share a backlog of a whole batch of small requests: a second transaction starts beside the held one', async () => {
      await whileHeld('pipe-many', async (hold, t) => {
        // 300 one-point requests: more than the 256 messages of a batch, far under its bytes.
        for (let i = 1; i <= 300; i++) await send('default', [{ metric: 'pipe-many', value: i, timestamp: t + i, source_id: 'pipe-many' }]);
        await waitFor('a second transaction beside the held one', () => hold.seen.most === 2);
        hold.release();
        await waitFor('every point stored', async () => (await stored('pipe-many')).length === 301);
      });
    });
  });

  it('dead-letters a message it can never store, with the reason, and keeps consuming after it', async () => {
    const nc = await scope.nats();
    nc.publish(`${scope.prefix}.telemetry.default`, 'this is not JSON');
    await send('default', [{ metric: 'after', value: 1, timestamp: now(), source_id: 'pipe-2' }]);
    await waitFor('the point after the poison message stored', async () => (await stored('pipe-2')).length === 1);
    const deadLetters = `${scope.prefix}_DEADLETTER`;
    await waitFor('the poison message dead-lettered', async () => (await jsm.streams.info(deadLetters)).state.messages >= 1);
    const letter = await jsm.streams.getMessage(deadLetters, { seq: (await jsm.streams.info(deadLetters)).state.first_seq });
    expect(new TextDecoder().decode(letter!.data)).toBe('this is not JSON');
    expect(letter!.header?.get('Plexus-Dead-Letter-Reason')).toBeTruthy();
    await waitFor('the telemetry stream drained', async () => (await jsm.streams.info(`${scope.prefix}_TELEMETRY`)).state.messages === 0);
    // The feed carries only what was stored: never the poison message.
    const feed = await jsm.streams.info(`${scope.prefix}_ALERT_FEED`);
    for (let seq = feed.state.first_seq; seq <= feed.state.last_seq && feed.state.messages; seq++) {
      const fed = await jsm.streams.getMessage(`${scope.prefix}_ALERT_FEED`, { seq });
      expect(new TextDecoder().decode(fed!.data)).not.toBe('this is not JSON');
    }
  });

  it('deletes points past the retention period and keeps the rest', async () => {
    const t = now();
    await send('default', [
      { metric: 'old', value: 1, timestamp: t - 3 * 86_400, source_id: 'pipe-3' },
      { metric: 'old', value: 2, timestamp: t - 2 * 86_400, source_id: 'pipe-3' },
      { metric: 'new', value: 3, timestamp: t - 60, source_id: 'pipe-3' },
    ]);
    await waitFor('3 points stored', async () => (await stored('pipe-3')).length === 3);
    expect(await retention.sweep()).toBeGreaterThanOrEqual(2);
    expect((await stored('pipe-3')).map((row) => row.metric)).toEqual(['new']);
  });
});

describe('SessionsService (ingest, real PostgreSQL)', () => {
  it('creates a session once: a second create with the same id answers the existing one unchanged', async () => {
    const created = await sessions.create({
      org_id: 'default',
      source_id: 'rig',
      session_id: 'calibration-1',
      name: 'Calibration',
      tags: { lab: '2' },
    });
    expect(created).toMatchObject({
      created: true,
      session: { session_id: 'calibration-1', status: 'active', name: 'Calibration', tags: { lab: '2' } },
    });
    const again = await sessions.create({ org_id: 'default', source_id: 'rig', session_id: 'calibration-1', name: 'Other' });
    expect(again).toMatchObject({ created: false, session: { session_id: 'calibration-1', name: 'Calibration' } });
  });

  it('ends a session and keeps orgs apart', async () => {
    await sessions.create({ org_id: 'default', source_id: 'rig', session_id: 'to-end' });
    const ended = await sessions.update({ org_id: 'default', session_id: 'to-end', status: 'completed' });
    expect(ended).toMatchObject({ status: 'completed', ended_at: expect.any(String) });
    await expect(sessions.find('acme', 'to-end')).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    await expect(sessions.update({ org_id: 'acme', session_id: 'to-end', status: 'completed' })).rejects.toMatchObject({
      code: 'SESSION_NOT_FOUND',
    });
  });

  it.each<[string, unknown]>([
    ['empty', ''],
    ['129 characters', 's'.repeat(129)],
    ['a NUL', 'run\u00001'],
    ['a control character', 'run\u001f1'],
    ['a number', 42],
  ])('refuses a session id that is %s (BAD_REQUEST)', async (_, sessionId) => {
    await expect(sessions.create({ org_id: 'default', source_id: 'rig', session_id: sessionId as string })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });
});
