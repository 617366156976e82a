import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Platform } from './support/platform.js';

let platform: Platform;

beforeAll(async () => {
  platform = await Platform.start({ apps: ['pairing', 'ingest', 'gateway'] });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

async function json(response: Response, status = 200): Promise<any> {
  const body = await response.json();
  expect({ status: response.status, body }).toMatchObject({ status });
  return body;
}

describe('sessions', () => {
  it('creates a session (201), returns an existing id unchanged (200), ends it with status "ended"', async () => {
    const created = await json(
      await platform.api('/api/sessions', {
        method: 'POST',
        body: JSON.stringify({
          session_id: 'test-001',
          name: 'Motor Test Run',
          source_id: 'rig-1',
          status: 'active',
          tags: { rig: 'a' },
          metadata: { operator: 'ann' },
        }),
      }),
      201,
    );
    expect(created).toMatchObject({
      session_id: 'test-001',
      name: 'Motor Test Run',
      source_id: 'rig-1',
      status: 'active',
      tags: { rig: 'a' },
      metadata: { operator: 'ann' },
      ended_at: null,
    });
    const again = await json(
      await platform.api('/api/sessions', {
        method: 'POST',
        body: JSON.stringify({ session_id: 'test-001', name: 'Other', source_id: 'rig-1' }),
      }),
      200,
    );
    expect(again).toMatchObject({ session_id: 'test-001', name: 'Motor Test Run', status: 'active' });
    const generated = await json(
      await platform.api('/api/sessions', { method: 'POST', body: JSON.stringify({ source_id: 'rig-1', status: 'started' }) }),
      201,
    );
    expect(generated.session_id).toMatch(/^session_\d+_[0-9a-f]+$/);
    const ended = await json(
      await platform.api('/api/sessions', {
        method: 'POST',
        body: JSON.stringify({ session_id: generated.session_id, source_id: 'rig-1', status: 'ended' }),
      }),
      200,
    );
    expect(ended.status).toBe('completed');
    expect(ended.ended_at).not.toBeNull();
  });

  it('PATCH ends a session with its ended_at, reopens it, renames it; 404 for an unknown id; 400 for a bad status', async () => {
    await json(
      await platform.api('/api/sessions', { method: 'POST', body: JSON.stringify({ session_id: 'patch-1', source_id: 'rig-1' }) }),
      201,
    );
    const completed = await json(
      await platform.api('/api/sessions/patch-1', {
        method: 'PATCH',
        body: JSON.stringify({ status: 'completed', ended_at: '2024-01-15T10:30:00Z' }),
      }),
    );
    expect(completed).toMatchObject({ status: 'completed', ended_at: '2024-01-15T10:30:00.000Z' });
    const reopened = await json(
      await platform.api('/api/sessions/patch-1', { method: 'PATCH', body: JSON.stringify({ status: 'active', name: 'again' }) }),
    );
    expect(reopened).toMatchObject({ status: 'active', ended_at: null, name: 'again' });
    const missing = await json(
      await platform.api('/api/sessions/nope', { method: 'PATCH', body: JSON.stringify({ status: 'failed' }) }),
      404,
    );
    expect(missing.message).toMatch(/nope/);
    const bad = await json(await platform.api('/api/sessions/patch-1', { method: 'PATCH', body: JSON.stringify({ status: 'done' }) }), 400);
    expect(bad.details[0].field).toBe('status');
  });

  it('details, lists and exports a recorded session as CSV and NDJSON', async () => {
    await json(
      await platform.api('/api/sessions', {
        method: 'POST',
        body: JSON.stringify({ session_id: 'rec-1', source_id: 'rig-2', name: 'Recorded' }),
      }),
      201,
    );
    const points = [
      { metric: 'rpm', value: 1200, timestamp: 1700000000.5, source_id: 'rig-2', session_id: 'rec-1' },
      { metric: 'state', value: 'spin, "fast"', timestamp: 1700000001, source_id: 'rig-2', session_id: 'rec-1', tags: { phase: 'a' } },
      { metric: 'vec', value: { x: 1 }, timestamp: 1700000002, source_id: 'rig-2', session_id: 'rec-1' },
      { metric: 'rpm', value: 1300, timestamp: 1700000003, source_id: 'rig-2' },
    ];
    expect((await platform.ingest(points)).status).toBe(200);
    await platform.drained();

    const detail = await json(await platform.api('/api/sessions/rec-1'));
    expect(detail).toMatchObject({
      session_id: 'rec-1',
      point_count: 3,
      metrics: ['rpm', 'state', 'vec'],
      first_point_at: 1700000000.5,
      last_point_at: 1700000002,
    });

    const csv = await platform.api('/api/sessions/rec-1/export?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect((await csv.text()).trim().split('\n')).toEqual([
      'time,timestamp,source_id,metric,value,tags,session_id',
      '2023-11-14T22:13:20.500000Z,1700000000.5,rig-2,rpm,1200,{},rec-1',
      `2023-11-14T22:13:21.000000Z,1700000001,rig-2,state,"""spin, \\""fast\\""""","{""phase"": ""a""}",rec-1`,
      '2023-11-14T22:13:22.000000Z,1700000002,rig-2,vec,"{""x"": 1}",{},rec-1',
    ]);

    const ndjson = await platform.api('/api/sessions/rec-1/export?format=ndjson');
    expect(ndjson.headers.get('content-type')).toMatch(/ndjson/);
    const lines = (await ndjson.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((l) => l.value)).toEqual([1200, 'spin, "fast"', { x: 1 }]);
    expect(lines[1]).toMatchObject({
      timestamp: 1700000001,
      source_id: 'rig-2',
      metric: 'state',
      tags: { phase: 'a' },
      session_id: 'rec-1',
    });

    expect((await platform.api('/api/sessions/nope/export')).status).toBe(404);
    expect((await platform.api('/api/sessions/rec-1/export?format=xml')).status).toBe(400);
  });

  it('creates an active session for telemetry that names an unknown session_id', async () => {
    expect(
      (await platform.ingest([{ metric: 'm', value: 1, timestamp: 1700000000, source_id: 'rig-3', session_id: 'implicit-1' }])).status,
    ).toBe(200);
    await platform.drained();
    expect(await json(await platform.api('/api/sessions/implicit-1'))).toMatchObject({
      status: 'active',
      source_id: 'rig-3',
      point_count: 1,
    });
  });

  it('lists with filters and a cursor', async () => {
    for (let i = 0; i < 3; i++) {
      await json(
        await platform.api('/api/sessions', { method: 'POST', body: JSON.stringify({ session_id: `page-${i}`, source_id: 'rig-page' }) }),
        201,
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/api/sessions?source_id=rig-page&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await json(await platform.api(query));
      seen.push(...page.sessions.map((s: { session_id: string }) => s.session_id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(['page-2', 'page-1', 'page-0']);
    const completed = await json(await platform.api('/api/sessions?status=completed'));
    expect(completed.sessions.every((s: { status: string }) => s.status === 'completed')).toBe(true);
    expect((await platform.api('/api/sessions?limit=0')).status).toBe(400);
  });
});

describe('GET /api/query', () => {
  beforeAll(async () => {
    // 0..59 at one point a second from 1700000020; 1700000040 is a minute boundary. Plus two string points.
    const points = Array.from({ length: 60 }, (_, i) => ({ metric: 'temp', value: i, timestamp: 1700000020 + i, source_id: 'q-1' }));
    expect((await platform.ingest(points)).status).toBe(200);
    expect(
      (
        await platform.ingest([
          { metric: 'state', value: 'idle', timestamp: 1700000040, source_id: 'q-1' },
          { metric: 'state', value: 'busy', timestamp: 1700000100, source_id: 'q-1' },
        ])
      ).status,
    ).toBe(200);
    await platform.drained();
  });

  const query = async (params: string) => json(await platform.api(`/api/query?source_id=q-1&${params}`));

  it('returns raw points oldest first within from/to, up to limit', async () => {
    const all = await query('metric=temp');
    expect(all.points).toHaveLength(60);
    expect(all.points[0]).toEqual({ timestamp: 1700000020, value: 0 });
    const window = await query('metric=temp&from=1700000030&to=2023-11-14T22:14:10Z&limit=5');
    expect(window.points.map((p: { value: number }) => p.value)).toEqual([10, 11, 12, 13, 14]);
  });

  it.each([
    ['avg', [9.5, 39.5]],
    ['min', [0, 20]],
    ['max', [19, 59]],
    ['sum', [190, 1580]],
    ['count', [20, 40]],
    ['first', [0, 20]],
    ['last', [19, 59]],
  ])('buckets by the minute with %s', async (agg, expected) => {
    const answer = await query(`metric=temp&bucket=1m&agg=${agg}`);
    expect(answer).toMatchObject({ source_id: 'q-1', metric: 'temp', bucket: '1m', agg });
    expect(answer.points).toEqual([
      { timestamp: 1699999980, value: expected[0] },
      { timestamp: 1700000040, value: expected[1] },
    ]);
  });

  it('returns non-numeric values as sent, raw and as first/last of a bucket', async () => {
    expect((await query('metric=state')).points.map((p: { value: string }) => p.value)).toEqual(['idle', 'busy']);
    expect((await query('metric=state&bucket=1h&agg=last')).points.map((p: { value: string }) => p.value)).toEqual(['busy']);
  });

  it('answers 400 for a bad parameter, naming it', async () => {
    for (const [params, field] of [
      ['metric=temp&bucket=fast', 'bucket'],
      ['metric=temp&agg=median', 'agg'],
      ['metric=temp&from=yesterday', 'from'],
      ['metric=temp&limit=0', 'limit'],
      ['', 'metric'],
    ]) {
      const body = await json(await platform.api(`/api/query?source_id=q-1&${params}`), 400);
      expect(body.details[0].field).toBe(field);
    }
  });
});
