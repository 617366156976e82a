import { request as httpRequest, type ClientRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';

// Readers cannot starve writers: a per-key cap on queries and exports in flight (429 beyond it),
// a read pool apart from the write pool with its own cap (503 beyond it), and a cursor closed
// when its HTTP client stops taking data. Answers are made larger than socket buffers can hold,
// so a client that never reads really does leave its answer waiting.
const BIG_POINTS = 1200;
const BIG_VALUE = 8 * 1024;

let held: Platform; // long ack timeout: a reader that never reads keeps its cursor while the test looks
let cut: Platform; // short ack timeout and one query per key: a reader that never reads is given up on
const open: ClientRequest[] = [];

async function loadBigSeries(platform: Platform): Promise<void> {
  for (let batch = 0; batch < BIG_POINTS / 100; batch++) {
    const points = Array.from({ length: 100 }, (_, i) => {
      const n = batch * 100 + i;
      return {
        source_id: 'big',
        metric: 'blob',
        timestamp: 1_700_000_000 + n,
        value: `${n}:`.padEnd(BIG_VALUE, String.fromCharCode(97 + (n % 26))),
      };
    });
    expect((await platform.ingest(points)).status).toBe(200);
  }
  await platform.drained(60_000);
}

/** An HTTP GET whose body is never read: resolves with the status once the headers arrive. */
function slowReader(platform: Platform, path: string, key: string): Promise<{ status: number; request: ClientRequest }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${platform.gateway}${path}`, { headers: { 'x-api-key': key }, agent: false }, (response) => {
      response.pause();
      resolve({ status: response.statusCode ?? 0, request });
    });
    request.on('error', (error) => (request.destroyed ? undefined : reject(error)));
    open.push(request);
    request.end();
  });
}

async function readConnections(platform: Platform): Promise<number> {
  return platform.count(
    `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'plexus-ingest-read' AND state <> 'idle'`,
  );
}

const QUERY = '/api/query?source_id=big&metric=blob&limit=100000';

beforeAll(async () => {
  [held, cut] = await Promise.all([
    Platform.start({ apps: ['pairing', 'ingest', 'gateway'], env: { PLEXUS_STREAM_ACK_TIMEOUT_MS: '120000' } }),
    Platform.start({
      apps: ['pairing', 'ingest', 'gateway'],
      env: { PLEXUS_STREAM_ACK_TIMEOUT_MS: '8000', PLEXUS_QUERY_CONCURRENCY_PER_KEY: '1' },
    }),
  ]);
  await Promise.all([loadBigSeries(held), loadBigSeries(cut)]);
}, 180_000);

afterAll(async () => {
  for (const request of open) request.destroy();
  await Promise.all([held?.stop(), cut?.stop()]);
});

describe('query and export limits', () => {
  it('one key gets 429 beyond 4 queries/exports in flight; the read pool is capped (503); writes of another org still commit', async () => {
    const reader = await held.createKey(['read']);
    const readers = await Promise.all(Array.from({ length: 8 }, () => slowReader(held, QUERY, reader)));
    const statuses = readers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429, 429, 429]);

    const refused = await held.api(QUERY, { key: reader });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    const body = (await refused.json()) as { message: string; code: string };
    expect(body.message).toMatch(/at most 4 at once/);
    expect(body.code).toBe('RATE_LIMITED');
    // Exports count against the same cap.
    expect((await held.api('/api/sessions/any/export?format=csv', { key: reader })).status).toBe(429);

    // Four cursors fill this ingest's read pool: another key's query waits briefly, then 503.
    expect(await readConnections(held)).toBe(4);
    const otherReader = await held.createKey(['read']);
    const busy = await held.api(QUERY, { key: otherReader });
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBeTruthy();

    // The write pool is apart: another org's points commit while the readers hold their cursors.
    const writer = await held.createKey(['write'], 'other-org');
    const points = Array.from({ length: 50 }, (_, i) => ({ source_id: 'w', metric: 'm', value: i, timestamp: 1_700_000_000 + i }));
    expect((await held.ingest(points, { key: writer })).status).toBe(200);
    await held.drained(20_000);
    expect(await held.count(`SELECT count(*) FROM telemetry WHERE org_id = 'other-org'`)).toBe(50);

    // Readers that go away give their slots and connections back at once.
    for (const r of readers) r.request.destroy();
    await waitFor('the read connections to be released', async () => (await readConnections(held)) === 0);
    await waitFor('the key to query again', async () => {
      const again = await held.api(`${QUERY.replace('limit=100000', 'limit=1')}`, { key: reader });
      await again.arrayBuffer();
      return again.status === 200;
    });
  }, 90_000);

  it('closes the cursor of a client that takes no data within the ack timeout, and frees its slot', async () => {
    const reader = await cut.createKey(['read']);
    const stalled = await slowReader(cut, QUERY, reader);
    expect(stalled.status).toBe(200);
    // Held: its cursor is open and the key's one slot (cap 1 here) is taken.
    expect(await readConnections(cut)).toBe(1);
    expect((await cut.api(QUERY, { key: reader })).status).toBe(429);
    // The client neither reads nor goes away: the platform gives up on it by itself.
    await waitFor('the stalled cursor to be closed', async () => (await readConnections(cut)) === 0, 30_000);
    await waitFor(
      'the key to query again',
      async () => {
        const again = await cut.api(QUERY.replace('limit=100000', 'limit=3'), { key: reader });
        const body = (await again.json()) as { points?: unknown[] };
        return again.status === 200 && body.points?.length === 3;
      },
      30_000,
    );
    expect(stalled.request.destroyed).toBe(false);
  }, 60_000);

  it.each([
    ['metric with NUL', '/api/query?source_id=big&metric=%00', 'metric'],
    ['to beyond any year', '/api/query?source_id=big&metric=blob&to=99999999999999999999999', 'to'],
    ['from before year 1', '/api/query?source_id=big&metric=blob&from=0000-12-31', 'from'],
    ['a bucket of a million years', '/api/query?source_id=big&metric=blob&bucket=999999999999h', 'bucket'],
  ])('answers 400 naming the field for %s', async (_what, path, field) => {
    const response = await cut.api(path);
    const body = (await response.json()) as { message: string; details?: Array<{ field: string }> };
    expect({ status: response.status, message: body.message }).toMatchObject({ status: 400, message: expect.stringContaining(field) });
  });

  it.each([
    ['/api/sessions/%00'],
    ['/api/sessions/%00/export'],
    ['/api/sessions/run%0A7'],
    [`/api/sessions/${'x'.repeat(129)}/export?format=ndjson`],
  ])('answers 400 or 404 for the session id in %s, never 500', async (path) => {
    const response = await cut.api(path);
    const body = (await response.json()) as { message: string };
    expect([400, 404]).toContain(response.status);
    expect(body.message).toMatch(/session/);
  });

  it('answers 400, never 500, for session values PostgreSQL cannot store', async () => {
    const created = await cut.api('/api/sessions', {
      method: 'POST',
      body: JSON.stringify({ session_id: 'nul-probe', source_id: 'rig-1' }),
    });
    expect(created.status).toBe(201);
    for (const body of [{ name: null }, { tags: null }]) {
      const response = await cut.api('/api/sessions/nul-probe', { method: 'PATCH', body: JSON.stringify(body) });
      expect({ body, status: response.status }).toEqual({ body, status: 400 });
    }
    for (const body of [
      { session_id: 'nul-probe-2', source_id: 'rig-1', name: 'a\u0000b' },
      { session_id: 'nul-probe-3', source_id: 'rig-1', metadata: { k: 'a\u0000b' } },
    ]) {
      const response = await cut.api('/api/sessions', { method: 'POST', body: JSON.stringify(body) });
      expect({ body, status: response.status }).toEqual({ body, status: 400 });
    }
  });
});
