import { beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import type { RuleInput, RuleTestResult } from '#common';
import { type InProcessApp, mediumScope, startInProcess } from '../../../../test/support/medium.js';

// Medium: the dry run answering over real NATS from points stored in the real PostgreSQL (rows
// written as the storage-v2 migration defines them: series, points, sessions).
const scope = await mediumScope();
const { AppModule } = await import('../app.module.js');
const { DryRunService } = await import('./dry-run.service.js');
const { SUBJECTS } = await import('#common');
const { DataSource } = await import('typeorm');

const ORG = 'org-dry';
const OTHER_ORG = 'org-other';
const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const RANGE = { from: at(-60), to: at(3600) };

let app: InProcessApp;
let nc: NatsConnection;

beforeAll(async () => {
  app = await startInProcess(AppModule, { answersNats: true });
  nc = await scope.nats();
});
scope.onTeardown(() => app?.close());

/** A storage series and its points [seconds after T0, value]. */
async function stored(
  series: { org?: string; source: string; metric?: string; tags?: Record<string, unknown>; session?: string },
  points: [number, unknown][],
): Promise<number> {
  const {
    rows: [{ id }],
  } = await scope.db.query<{ id: number }>(
    `INSERT INTO series (org_id, source_id, metric, session_id, tags) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [series.org ?? ORG, series.source, series.metric ?? 'temp', series.session ?? '', JSON.stringify(series.tags ?? {})],
  );
  await scope.db.query(
    `INSERT INTO points (series_id, time, value_num, value_json)
     SELECT $1, t, n, j FROM unnest($2::timestamptz[], $3::float8[], $4::jsonb[]) AS u(t, n, j)`,
    [
      id,
      points.map(([seconds]) => at(seconds)),
      points.map(([, value]) => (typeof value === 'number' ? value : null)),
      points.map(([, value]) => (typeof value === 'number' ? null : JSON.stringify(value))),
    ],
  );
  return id;
}

/** Sends a request as the gateway would (or raw bytes), answers Nest's reply packet. */
async function ask(request: unknown, raw?: string): Promise<{ response?: RuleTestResult; err?: { code: string; message: string } }> {
  const reply = await nc.request(SUBJECTS.alerts.testRule, raw ?? JSON.stringify(request), { timeout: 10_000 });
  return reply.json();
}

async function dryRun(request: Record<string, unknown>): Promise<RuleTestResult> {
  const reply = await ask({ org_id: ORG, ...request });
  if (!reply.response) throw new Error(`refused: ${JSON.stringify(reply.err)}`);
  return reply.response;
}

const hot: RuleInput = { name: 'hot', metric: 'temp', condition: { type: 'above', threshold: 30 }, for_seconds: 20 };

beforeAll(async () => {
  // rig-1 heats up, holds, cools down; its readings go on in a session of its own (another storage series, the same series for the rule).
  await stored({ source: 'rig-1', tags: { site: 'north' } }, [
    [0, 25],
    [10, 31],
    [20, 'sensor fault'],
    [25, 32],
    [30, 33],
    [40, 29],
  ]);
  await stored({ source: 'rig-1', tags: { site: 'north' }, session: 'run-1' }, [
    [50, 35],
    [70, 36],
    [80, 20],
  ]);
  // rig-2 crosses briefly (pending, cancelled) in the south.
  await stored({ source: 'rig-2', tags: { site: 'south' } }, [
    [0, 31],
    [5, 30],
  ]);
  // Another metric, and another org with the same source, metric and tags: never read.
  await stored({ source: 'rig-1', metric: 'humidity', tags: { site: 'north' } }, [
    [0, 99],
    [60, 99],
  ]);
  await stored({ org: OTHER_ORG, source: 'rig-1', tags: { site: 'north' } }, [
    [0, 99],
    [30, 99],
    [60, 99],
  ]);
  await scope.db.query(
    `INSERT INTO sessions (org_id, id, source_id, name, status, started_at, ended_at) VALUES
       ($1, 'run-1', 'rig-1', 'run 1', 'completed', $3, $4),
       ($2, 'theirs', 'rig-1', 'their run', 'active', $3, NULL)`,
    [ORG, OTHER_ORG, at(45), at(90)],
  );
});

describe('dry run over a range (NATS → PostgreSQL)', () => {
  it('answers the transitions the rule would have made, in time order, per source and tag set', async () => {
    const result = await dryRun({ rule: hot, ...RANGE });
    const north = { source_id: 'rig-1', metric: 'temp', tags: { site: 'north' } };
    const south = { source_id: 'rig-2', metric: 'temp', tags: { site: 'south' } };
    expect(result).toEqual({
      transitions: [
        { at: '2026-11-30T12:00:00.000000Z', series: south, from: 'ok', to: 'pending', value: 31 },
        { at: '2026-11-30T12:00:05.000000Z', series: south, from: 'pending', to: 'ok', value: 30 },
        { at: '2026-11-30T12:00:10.000000Z', series: north, from: 'ok', to: 'pending', value: 31 },
        { at: '2026-11-30T12:00:30.000000Z', series: north, from: 'pending', to: 'firing', value: 33 },
        { at: '2026-11-30T12:00:40.000000Z', series: north, from: 'firing', to: 'ok', value: 29 },
        { at: '2026-11-30T12:00:50.000000Z', series: north, from: 'ok', to: 'pending', value: 35 },
        { at: '2026-11-30T12:01:10.000000Z', series: north, from: 'pending', to: 'firing', value: 36 },
        { at: '2026-11-30T12:01:20.000000Z', series: north, from: 'firing', to: 'ok', value: 20 },
      ],
      points_evaluated: 11,
      series: 2,
      truncated: false,
    });
  });

  it('narrows by source and by tags, and reads only the range', async () => {
    const bySource = await dryRun({ rule: { ...hot, source_id: 'rig-2' }, ...RANGE });
    expect(bySource.transitions.map((t) => t.series.source_id)).toEqual(['rig-2', 'rig-2']);
    const byTags = await dryRun({ rule: { ...hot, tags: { site: 'north' } }, ...RANGE });
    expect(byTags).toMatchObject({ series: 1, points_evaluated: 9 });
    expect(await dryRun({ rule: { ...hot, tags: { site: 'east' } }, ...RANGE })).toEqual({
      transitions: [],
      points_evaluated: 0,
      series: 0,
      truncated: false,
    });
    // [10 s, 30 s): 31 (pending), a string, 32.
    const part = await dryRun({ rule: { ...hot, source_id: 'rig-1' }, from: at(10), to: at(30) });
    expect(part).toMatchObject({ points_evaluated: 3, transitions: [{ from: 'ok', to: 'pending', value: 31 }] });
  });

  it('fires a no_data rule at last + seconds on a gap longer than seconds, resolves it at the next point, and fires after the last point up to the end', async () => {
    await stored({ source: 'beacon', metric: 'ping' }, [
      [0, 1],
      [10, 'up'],
      [20, 1],
      [100, 1],
      [110, 1],
    ]);
    const quiet = await dryRun({
      rule: { name: 'quiet', source_id: 'beacon', metric: 'ping', condition: { type: 'no_data', seconds: 10 } },
      from: at(0),
      to: at(200),
    });
    expect(quiet.transitions.map((t) => [t.at, t.from, t.to, t.value])).toEqual([
      ['2026-11-30T12:00:30.000000Z', 'ok', 'firing', null],
      ['2026-11-30T12:01:40.000000Z', 'firing', 'ok', null],
      ['2026-11-30T12:02:00.000000Z', 'ok', 'firing', null],
    ]);
    const patient = await dryRun({
      rule: { name: 'quiet', source_id: 'beacon', metric: 'ping', condition: { type: 'no_data', seconds: 10 }, for_seconds: 60 },
      from: at(0),
      to: at(150),
    });
    expect(patient.transitions.map((t) => [t.at, t.from, t.to])).toEqual([
      ['2026-11-30T12:00:30.000000Z', 'ok', 'pending'],
      ['2026-11-30T12:01:30.000000Z', 'pending', 'firing'],
      ['2026-11-30T12:01:40.000000Z', 'firing', 'ok'],
      // Silent from 110 s: pending at 120 s, not firing before the range ends at 150 s.
      ['2026-11-30T12:02:00.000000Z', 'ok', 'pending'],
    ]);
  });

  it('defaults to the last 24 hours', async () => {
    await stored({ source: 'recent', metric: 'load' }, [[(Date.now() - T0) / 1000 - 3600, 9]]);
    const result = await dryRun({ rule: { name: 'load', metric: 'load', condition: { type: 'above', threshold: 1 } } });
    expect(result).toMatchObject({ points_evaluated: 1, transitions: [{ from: 'ok', to: 'firing', value: 9 }] });
  });
});

describe('reading', () => {
  it("merges a source's storage series (one per session) in time order, across pages", async () => {
    const even: [number, unknown][] = Array.from({ length: 150 }, (_, i) => [2 * i, 2 * i]);
    const odd: [number, unknown][] = Array.from({ length: 150 }, (_, i) => [2 * i + 1, 2 * i + 1]);
    await stored({ source: 'merge', metric: 'count' }, even);
    await stored({ source: 'merge', metric: 'count', session: 'merge-run' }, odd);
    const rule = { name: 'past 150', metric: 'count', condition: { type: 'above', threshold: 150 } };
    // Read one series after the other, the even one would fire at 152 and the odd points would come too late.
    const result = await new DryRunService(app.get(DataSource), { pageSize: 7 }).run({ org_id: ORG, rule, from: at(0), to: at(600) });
    expect(result).toEqual({
      transitions: [
        {
          at: at(151).replace('Z', '000Z'),
          series: { source_id: 'merge', metric: 'count', tags: null },
          from: 'ok',
          to: 'firing',
          value: 151,
        },
      ],
      points_evaluated: 300,
      series: 1,
      truncated: false,
    });
  });

  it('reads a long series in pages the same as at once', async () => {
    await stored(
      { source: 'wave', metric: 'level' },
      Array.from({ length: 60 }, (_, i) => [i, i % 10]),
    );
    const request = {
      org_id: ORG,
      rule: { name: 'wave', metric: 'level', condition: { type: 'inside', low: 3, high: 5 } },
      from: at(0),
      to: at(60),
    };
    const paged = await new DryRunService(app.get(DataSource), { pageSize: 7 }).run(request);
    expect(paged).toEqual(await new DryRunService(app.get(DataSource)).run(request));
    expect(paged).toMatchObject({ points_evaluated: 60, series: 1, truncated: false });
    expect(paged.transitions).toHaveLength(12);
  });
});

describe('dry run over a session', () => {
  it("reads only the session's points", async () => {
    const result = await dryRun({ rule: hot, session_id: 'run-1' });
    const north = { source_id: 'rig-1', metric: 'temp', tags: { site: 'north' } };
    expect(result).toEqual({
      transitions: [
        { at: at(50).replace('Z', '000Z'), series: north, from: 'ok', to: 'pending', value: 35 },
        { at: at(70).replace('Z', '000Z'), series: north, from: 'pending', to: 'firing', value: 36 },
        { at: at(80).replace('Z', '000Z'), series: north, from: 'firing', to: 'ok', value: 20 },
      ],
      points_evaluated: 3,
      series: 1,
      truncated: false,
    });
  });

  it('counts a no_data silence up to the end of the session, not up to now', async () => {
    const quiet = (seconds: number) => ({ name: 'q', metric: 'temp', condition: { type: 'no_data', seconds } });
    // Points at 50, 70 and 80 s; the session ended at 90 s. A gap of exactly `seconds` (70 → 80) does not fire.
    const ten = await dryRun({ rule: quiet(10), session_id: 'run-1' });
    expect(ten.transitions.map((t) => [t.at, t.to])).toEqual([
      [at(60).replace('Z', '000Z'), 'firing'],
      [at(70).replace('Z', '000Z'), 'ok'],
      [at(90).replace('Z', '000Z'), 'firing'],
    ]);
    const eleven = await dryRun({ rule: quiet(11), session_id: 'run-1' });
    expect(eleven.transitions.map((t) => [t.at, t.to])).toEqual([
      [at(61).replace('Z', '000Z'), 'firing'],
      [at(70).replace('Z', '000Z'), 'ok'],
    ]);
  });

  it("answers NOT_FOUND for another org's session and for an unknown one", async () => {
    expect(await ask({ org_id: ORG, rule: hot, session_id: 'theirs' })).toMatchObject({ err: { code: 'NOT_FOUND' } });
    expect(await ask({ org_id: ORG, rule: hot, session_id: 'nope' })).toMatchObject({ err: { code: 'NOT_FOUND' } });
    // The owner reads it (its points are none: the session holds no temp series).
    expect(await ask({ org_id: OTHER_ORG, rule: hot, session_id: 'theirs' })).toMatchObject({ response: { points_evaluated: 0 } });
  });

  it("never reads another org's points: the other org sees only its own", async () => {
    const theirs = await ask({ org_id: OTHER_ORG, rule: hot, ...RANGE });
    expect(theirs.response).toMatchObject({
      points_evaluated: 3,
      series: 1,
      transitions: [
        { from: 'ok', to: 'pending' },
        { from: 'pending', to: 'firing' },
      ],
    });
  });
});

describe('hostile requests', () => {
  const rule = hot;
  it.each([
    ['a body that is not JSON', undefined, '{"org_id": '],
    ['a JSON string', 'text', undefined],
    ['an array', [rule], undefined],
    ['no org', { rule, ...RANGE }, undefined],
    ['an org that is an object', { org_id: { $ne: 1 }, rule }, undefined],
    ['a rule that is a number', { org_id: ORG, rule: 7 }, undefined],
    ['a threshold that is a string', { org_id: ORG, rule: { ...rule, condition: { type: 'above', threshold: '30' } } }, undefined],
    ['NUL in the metric', { org_id: ORG, rule: { ...rule, metric: 'te\u0000mp' } }, undefined],
    [
      'a lone surrogate in the name',
      undefined,
      `{"org_id":"${ORG}","rule":{"name":"\\ud800","metric":"temp","condition":{"type":"above","threshold":1}}}`,
    ],
    ['a huge name', { org_id: ORG, rule: { ...rule, name: 'x'.repeat(100_000) } }, undefined],
    [
      'deeply nested tags',
      undefined,
      `{"org_id":"${ORG}","rule":{"name":"n","metric":"temp","tags":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)},"condition":{"type":"above","threshold":1}}}`,
    ],
    ['an offline rule', { org_id: ORG, rule: { name: 'gone', condition: { type: 'offline', seconds: 60 } } }, undefined],
    ['a rule without a metric', { org_id: ORG, rule: { name: 'n', condition: { type: 'above', threshold: 1 } } }, undefined],
    ['both a session and a range', { org_id: ORG, rule, session_id: 'run-1', ...RANGE }, undefined],
    ['from after to', { org_id: ORG, rule, from: at(100), to: at(0) }, undefined],
    ['a range of 32 days', { org_id: ORG, rule, from: at(0), to: at(32 * 86_400) }, undefined],
    ['a time that is not one', { org_id: ORG, rule, from: '2026-02-30T00:00:00Z' }, undefined],
  ])('answers BAD_REQUEST to %s', async (_what, request, raw) => {
    const reply = await ask(request, raw);
    expect(reply.err).toMatchObject({ code: 'BAD_REQUEST', message: expect.any(String) });
  });

  it('says why an offline rule cannot be dry-run, and still answers afterwards', async () => {
    const reply = await ask({ org_id: ORG, rule: { name: 'gone', source_id: 'rig-1', condition: { type: 'offline', seconds: 60 } } });
    expect(reply.err?.message).toMatch(/offline rules cannot be dry-run: presence is not stored/);
    expect((await dryRun({ rule: hot, ...RANGE })).points_evaluated).toBe(11);
  });
});

describe('bounds', () => {
  it('stops at the point cap and says truncated', async () => {
    const small = new DryRunService(app.get(DataSource), { maxPoints: 4, pageSize: 2 });
    const result = await small.run({ org_id: ORG, rule: hot, ...RANGE });
    expect(result).toMatchObject({ points_evaluated: 4, truncated: true });
    // rig-1 (north) is read first: 25, 31, 'sensor fault', 32 — pending at 10 s and nothing more.
    expect(result.transitions.map((t) => [t.series.source_id, t.to])).toEqual([['rig-1', 'pending']]);
  });

  it('is not truncated when the points are exactly the cap', async () => {
    const exact = new DryRunService(app.get(DataSource), { maxPoints: 11, pageSize: 3 });
    expect(await exact.run({ org_id: ORG, rule: hot, ...RANGE })).toMatchObject({ points_evaluated: 11, truncated: false });
  });

  it('stops at the transition cap and says truncated', async () => {
    const few = new DryRunService(app.get(DataSource), { maxTransitions: 2 });
    const result = await few.run({ org_id: ORG, rule: hot, ...RANGE });
    expect(result.truncated).toBe(true);
    expect(result.transitions).toHaveLength(2);
  });

  it('answers 503 naming the statement timeout when a read waits past it, and reads again afterwards', async () => {
    const bounded = new DryRunService(app.get(DataSource), { statementTimeoutMs: 300, concurrency: 1 });
    const holder = await scope.db.connect();
    try {
      // A lock wait counts toward statement_timeout: a read that cannot finish, without a race.
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE series IN ACCESS EXCLUSIVE MODE');
      const failure = await bounded.run({ org_id: ORG, rule: hot, ...RANGE }).catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/statement timeout \(300 ms\)/) });
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect(await bounded.run({ org_id: ORG, rule: hot, ...RANGE })).toMatchObject({ points_evaluated: 11, truncated: false });
  });

  it('refuses a dry run past its concurrency at once (503, retry)', async () => {
    const one = new DryRunService(app.get(DataSource), { concurrency: 1 });
    const outcomes = await Promise.allSettled([
      one.run({ org_id: ORG, rule: hot, ...RANGE }),
      one.run({ org_id: ORG, rule: hot, ...RANGE }),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });
});
