import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { HEADERS } from '../libs/common/src/subjects.js';
import { BATCH_ENCODING, BATCH_MAGIC } from '../libs/common/src/telemetry/telemetry-batch.js';
import { ENCODING_HEADER, encodeTelemetry } from '../libs/common/src/telemetry/telemetry-envelope.js';
import { headers } from '@nats-io/transport-node';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';

let platform: Platform;
let nc: NatsConnection;

beforeAll(async () => {
  platform = await Platform.start({ apps: ['pairing', 'ingest', 'gateway'], env: { PLEXUS_INGEST_MAX_ATTEMPTS: '3' } });
  nc = await connect({ servers: platform.env.NATS_URL });
  // A fault only the database sees: the series of the metric "explode" cannot be created, every time.
  await platform.db.query(`
    CREATE FUNCTION explode() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.metric = 'explode' THEN RAISE EXCEPTION 'metric explode is refused' USING ERRCODE = '22023'; END IF;
      RETURN NEW;
    END $$`);
  await platform.db.query(`CREATE TRIGGER explode BEFORE INSERT ON series FOR EACH ROW EXECUTE FUNCTION explode()`);
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await platform?.stop();
});

async function deadLetters(): Promise<Array<{ reason: string; data: string; encoding: string; bytes: Uint8Array }>> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(platform.streams.deadLetter);
  const letters = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await jsm.streams.getMessage(platform.streams.deadLetter, { seq });
    if (msg) {
      letters.push({
        reason: msg.header.get(HEADERS.deadLetterReason),
        data: msg.string(),
        encoding: msg.header.get(ENCODING_HEADER),
        bytes: msg.data,
      });
    }
  }
  return letters;
}

describe('dead letters', () => {
  it('moves a message that keeps failing to the dead-letter subject with its reason, and the stream goes on', async () => {
    const bad = await platform.ingest([{ metric: 'explode', value: 1, timestamp: 1700000000, source_id: 'dl-1' }]);
    expect(bad.status).toBe(200);
    const good = await platform.ingest([{ metric: 'fine', value: 1, timestamp: 1700000000, source_id: 'dl-1' }]);
    expect(good.status).toBe(200);

    const letter = await waitFor('a dead letter', async () => (await deadLetters()).find((l) => l.data.includes('explode')), 30_000);
    expect(letter.reason).toMatch(/failed 3 times: metric explode is refused/);
    await platform.drained();
    expect(await platform.count(`SELECT count(*) FROM telemetry WHERE source_id = 'dl-1' AND metric = 'fine'`)).toBe(1);
    expect(await platform.count(`SELECT count(*) FROM telemetry WHERE metric = 'explode'`)).toBe(0);
  });

  it('dead-letters a malformed message at once without holding up the next one', async () => {
    const js = jetstream(nc);
    await js.publish(platform.subjects.telemetry.forOrg('default'), 'this is not json');
    expect((await platform.ingest([{ metric: 'after', value: 2, timestamp: 1700000001, source_id: 'dl-2' }])).status).toBe(200);
    const letter = await waitFor('the malformed message dead-lettered', async () =>
      (await deadLetters()).find((l) => l.data === 'this is not json'),
    );
    expect(letter.reason).toMatch(/^rejected: message is not JSON/);
    await platform.drained();
    expect(await platform.count(`SELECT count(*) FROM telemetry WHERE source_id = 'dl-2'`)).toBe(1);
  });

  it('dead-letters a binary message that is cut short or lies about its lengths at once, keeping its encoding header', async () => {
    const js = jetstream(nc);
    const whole = encodeTelemetry('default', Date.now() * 1000, [{ metric: 'm', value: 1, source_id: 'dl-3' }], 1024 * 1024)[0];
    const cut = whole.subarray(0, whole.length - 3);
    const lying = Buffer.concat([BATCH_MAGIC, Buffer.alloc(8), Buffer.from([0xff, 0xff])]);
    for (const data of [cut, lying]) {
      const h = headers();
      h.set(ENCODING_HEADER, BATCH_ENCODING);
      await js.publish(platform.subjects.telemetry.forOrg('default'), data, { headers: h });
    }
    expect((await platform.ingest([{ metric: 'after', value: 3, timestamp: 1700000002, source_id: 'dl-4' }])).status).toBe(200);
    const letters = await waitFor('both binary messages dead-lettered', async () => {
      const all = await deadLetters();
      const found = [cut, lying].map((data) => all.find((l) => Buffer.from(l.bytes).equals(data)));
      return found.every((l) => l !== undefined) ? found : undefined;
    });
    for (const letter of letters) {
      expect(letter?.encoding).toBe(BATCH_ENCODING);
      expect(letter?.reason).toMatch(/^rejected: (message ends early|series 0 claims more points)/);
    }
    await platform.drained();
    expect(await platform.count(`SELECT count(*) FROM telemetry WHERE source_id = 'dl-4'`)).toBe(1);
    expect(await platform.count(`SELECT count(*) FROM telemetry WHERE source_id = 'dl-3'`)).toBe(0);
  });
});
