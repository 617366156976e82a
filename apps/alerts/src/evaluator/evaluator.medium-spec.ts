import { describe, expect, it, jest } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { type InProcessApp, mediumScope, startInProcess } from '../../../../test/support/medium.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import type { EvaluatorService as Evaluator } from './evaluator.service.js';

// Medium: the alerts app in process on the real PostgreSQL and NATS — feed messages in (as ingest
// publishes them), alerts and states out; two instances sharing the partitions; a restart while
// pending; replayed and hostile feed messages.
const scope = await mediumScope({
  PLEXUS_ALERTS_PARTITIONS: '2',
  PLEXUS_ALERTS_LEASE_MS: '2000',
  PLEXUS_ALERTS_RENEW_MS: '300',
  PLEXUS_ALERTS_TICK_MS: '100',
});
const { AppModule } = await import('../app.module.js');
const { EvaluatorService } = await import('./evaluator.service.js');
const { StateStore } = await import('./state-store.js');
const {
  alertPartitionOf,
  encodeFeedMessage,
  encodeFeedSummary,
  encodeTelemetry,
  ENCODING_HEADER,
  BATCH_ENCODING,
  FEED_ENCODING,
  FEED_SUMMARY_ENCODING,
  feedSeriesJson,
  SUBJECTS,
  summariseSeries,
} = await import('#common');

const apps: InProcessApp[] = [];
scope.onTeardown(async () => {
  for (const app of apps) await app.close();
});

async function startAlerts(): Promise<{ app: InProcessApp; evaluator: Evaluator }> {
  const app = await startInProcess(AppModule);
  apps.push(app);
  return { app, evaluator: app.get(EvaluatorService) };
}

let ruleNumber = 0;
/** A rule stored as the rules API stores it, and every instance told to reload its org. */
async function rule(orgId: string, fields: { metric?: string | null; source_id?: string | null; condition: object; for_seconds?: number }) {
  const id = `rule_m${++ruleNumber}`;
  await scope.db.query(`INSERT INTO orgs (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING`, [orgId]);
  await scope.db.query(
    `INSERT INTO alert_rules (id, org_id, name, source_id, metric, condition, for_seconds) VALUES ($1, $2, $1, $3, $4, $5, $6)`,
    [id, orgId, fields.source_id ?? null, fields.metric ?? null, JSON.stringify(fields.condition), fields.for_seconds ?? 0],
  );
  (await scope.nats()).publish(SUBJECTS.alerts.rulesChanged, JSON.stringify({ org_id: orgId }));
  return id;
}

async function feed(orgId: string, points: Array<Record<string, unknown>>, subjectOrg = orgId): Promise<void> {
  const js = jetstream(await scope.nats());
  const h = headers();
  h.set(ENCODING_HEADER, BATCH_ENCODING);
  for (const part of encodeTelemetry(orgId, Date.now() * 1000, points as never, 1024 * 1024)) {
    await js.publish(SUBJECTS.alerts.feed(subjectOrg), part, { headers: h });
  }
}

/** Points stored as ingest stores them (a storage series of the org, source, metric and session); its id. */
async function storeSeries(
  orgId: string,
  metric: string,
  session: string,
  points: Array<[number, unknown]>,
  source = 'rig',
): Promise<number> {
  await scope.db.query(`INSERT INTO orgs (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING`, [orgId]);
  const {
    rows: [{ id }],
  } = await scope.db.query<{ id: string }>(
    `INSERT INTO series (org_id, source_id, metric, session_id, tags) VALUES ($1, $2, $3, $4, '{}') RETURNING id`,
    [orgId, source, metric, session],
  );
  await scope.db.query(
    `INSERT INTO points (series_id, time, value_num, value_json)
     SELECT $1, to_timestamp(t), n, j FROM unnest($2::float8[], $3::float8[], $4::jsonb[]) AS u(t, n, j)`,
    [
      id,
      points.map(([dt]) => T0 + dt),
      points.map(([, value]) => (typeof value === 'number' ? value : null)),
      points.map(([, value]) => (typeof value === 'number' ? null : JSON.stringify(value))),
    ],
  );
  return Number(id);
}

/** A feed summary of stored series, as ingest publishes it after the commit. */
async function feedSummary(orgId: string, series: Array<{ id: number; metric: string; points: Array<[number, unknown]> }>): Promise<void> {
  const entries = series.map(({ id, metric, points }) =>
    feedSeriesJson(
      summariseSeries(id, [
        {
          sourceId: 'rig',
          metric,
          sessionId: '',
          tags: '',
          timesUs: points.map(([dt]) => (T0 + dt) * 1e6),
          nums: points.map(([, value]) => (typeof value === 'number' ? value : NaN)),
          jsons: null,
        },
      ]),
    ),
  );
  const h = headers();
  h.set(ENCODING_HEADER, FEED_SUMMARY_ENCODING);
  await jetstream(await scope.nats()).publish(SUBJECTS.alerts.feed(orgId), encodeFeedSummary(orgId, entries), { headers: h });
}

async function alerts(ruleId: string): Promise<Array<{ state: string; value: number | null; fired_at: Date }>> {
  return (await scope.db.query(`SELECT state, value, fired_at FROM alerts WHERE rule_id = $1 ORDER BY fired_at`, [ruleId])).rows;
}

const T0 = 1_790_000_000;
const point = (metric: string, dt: number, value: unknown, source = 'rig') => ({ source_id: source, metric, value, timestamp: T0 + dt });

/** Two orgs, one in each of the two partitions. */
const ORGS = (() => {
  const found: string[] = [];
  for (let i = 0; found.length < 2; i++) {
    const org = `org-${i}`;
    if (!found.some((other) => alertPartitionOf(other, 2) === alertPartitionOf(org, 2))) found.push(org);
  }
  return found;
})();

describe('alerts evaluator (real NATS and PostgreSQL)', () => {
  it('two instances share the partitions, and each org’s rule fires once, on the instance holding it', async () => {
    const first = await startAlerts();
    const second = await startAlerts();
    await waitFor(
      'each instance to hold one partition',
      () => first.evaluator.partitions.length === 1 && second.evaluator.partitions.length === 1,
      20_000,
    );
    const rules = [];
    for (const org of ORGS) rules.push(await rule(org, { metric: 'shared', condition: { type: 'above', threshold: 1 } }));
    await waitFor('both rules loaded, one per instance', () => first.evaluator.rulesLoaded() === 1 && second.evaluator.rulesLoaded() === 1);
    for (const org of ORGS) await feed(org, [point('shared', 0, 5), point('shared', 1, 0)]);
    for (const id of rules) {
      const rows = await waitFor('the alert fired and resolved', async () => {
        const found = await alerts(id);
        return found.length === 1 && found[0].state === 'resolved' && found;
      });
      expect(rows[0].value).toBe(5);
    }
    await second.app.close();
    apps.splice(apps.indexOf(second.app), 1);
    await waitFor('the first instance to take both partitions', () => first.evaluator.partitions.length === 2, 20_000);
  }, 60_000);

  it('a rule pending when its instance stops fires once after a new one starts, from the stored pending state', async () => {
    for (const app of apps.splice(0)) await app.close();
    let { evaluator } = await startAlerts();
    await waitFor('one instance to hold both partitions', () => evaluator.partitions.length === 2, 20_000);
    const id = await rule(ORGS[0], { metric: 'held', condition: { type: 'above', threshold: 10 }, for_seconds: 60 });
    await waitFor('the rule loaded', () => evaluator.rulesLoaded() === 3);
    await feed(ORGS[0], [point('held', 0, 11), point('held', 30, 12)]);
    await waitFor(
      'pending stored',
      async () => (await scope.db.query(`SELECT state FROM alert_states WHERE rule_id = $1`, [id])).rows[0]?.state === 'pending',
    );
    await apps.pop()!.close();
    ({ evaluator } = await startAlerts());
    await waitFor('the rules loaded again', () => evaluator.partitions.length === 2 && evaluator.rulesLoaded() === 3, 20_000);
    await feed(ORGS[0], [point('held', 59, 13), point('held', 60, 14), point('held', 61, 15)]);
    const rows = await waitFor('the alert', async () => {
      const found = await alerts(id);
      return found.length > 0 && found;
    });
    await feed(ORGS[0], [point('held', 62, 16)]);
    await waitFor('the progress past the last message', async () => {
      const { rows: progress } = await scope.db.query(`SELECT max(last_seq) AS seq FROM alert_feed_progress`);
      return Number(progress[0].seq) > 0;
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: 'firing', value: 14 });
    expect(rows[0].fired_at.getTime()).toBe((T0 + 60) * 1000);
    expect(await alerts(id)).toHaveLength(1);
  }, 60_000);

  it('ignores hostile feed messages without stopping', async () => {
    const evaluator = apps[0].get(EvaluatorService);
    const id = await rule(ORGS[0], { metric: 'guarded', condition: { type: 'below', threshold: 0 } });
    await waitFor('the rule loaded', () => evaluator.rulesLoaded() === 4);
    const nc = await scope.nats();
    const js = jetstream(nc);
    const h = headers();
    h.set(ENCODING_HEADER, BATCH_ENCODING);
    // Garbage, a cut binary message, legacy JSON that is not valid, and a payload whose org is not its subject's.
    await js.publish(SUBJECTS.alerts.feed(ORGS[0]), new Uint8Array([0, 0x50, 0x58, 1, 9, 9]), { headers: h });
    await js.publish(SUBJECTS.alerts.feed(ORGS[0]), 'not telemetry \u0000 \ud800');
    await js.publish(
      SUBJECTS.alerts.feed(ORGS[0]),
      JSON.stringify({ org_id: ORGS[0], received_at_us: 1, request: { points: [{ value: -1 }] } }),
    );
    await feed(ORGS[1], [point('guarded', 0, -5)], ORGS[0]);
    // Summaries that are not: junk, a series id PostgreSQL would refuse, NUL in a name, another org's summary on this org's subject.
    const summaryHeaders = headers();
    summaryHeaders.set(ENCODING_HEADER, FEED_SUMMARY_ENCODING);
    const entry = (id: unknown, source = 'rig') => [id, source, 'guarded', '', 1, T0 * 1e6, T0 * 1e6, 1, -9, -9, T0 * 1e6];
    for (const body of [
      '{"org":',
      '[]',
      JSON.stringify({ org: ORGS[0], series: [entry(2 ** 64)] }),
      JSON.stringify({ org: ORGS[0], series: [entry(1, 'r\u0000ig')] }),
      JSON.stringify({ org: ORGS[0], series: Array.from({ length: 3 }, () => entry(-1)) }),
      JSON.stringify({ org: ORGS[1], series: [entry(1)] }),
      '['.repeat(100_000),
    ])
      await js.publish(SUBJECTS.alerts.feed(ORGS[0]), body, { headers: summaryHeaders });
    // Feed messages of several parts: a junk one, and one whose bad part is skipped while its good part counts.
    const feedHeaders = headers();
    feedHeaders.set(ENCODING_HEADER, FEED_ENCODING);
    await js.publish(SUBJECTS.alerts.feed(ORGS[0]), new Uint8Array([0, 0x50, 0x46, 1, 255, 255, 255, 255]), { headers: feedHeaders });
    const good = encodeTelemetry(ORGS[0], Date.now() * 1000, [point('guarded', 0.5, -6)] as never, 1 << 20)[0];
    await js.publish(
      SUBJECTS.alerts.feed(ORGS[0]),
      encodeFeedMessage([
        { data: Buffer.from('junk'), encoding: BATCH_ENCODING },
        { data: good, encoding: BATCH_ENCODING },
      ]),
      { headers: feedHeaders },
    );
    await feed(ORGS[0], [point('guarded', 1, -7)]);
    const rows = await waitFor('the alert from the good part', async () => {
      const found = await alerts(id);
      return found.length > 0 && found;
    });
    expect(rows.map((row) => row.value)).toEqual([-6]);
  }, 60_000);

  it('a message up to the stored sequence was applied before a crash: replayed, it changes nothing', async () => {
    const id = await rule(ORGS[0], { metric: 'replayed', condition: { type: 'above', threshold: 0 } });
    await waitFor('the rule loaded', () => apps[0].get(EvaluatorService).rulesLoaded() === 5);
    await apps.pop()!.close();
    // Stored while no instance runs; the stored sequence says it was applied (as after a crash before its ack).
    await feed(ORGS[0], [point('replayed', 0, 1)]);
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const { CONSUMERS, STREAMS } = await import('#common');
    const lastSeq = (await (await jetstreamManager(await scope.nats())).streams.info(STREAMS.alertFeed)).state.last_seq;
    await scope.db.query(
      `INSERT INTO alert_feed_progress (consumer, last_seq) VALUES ($1, $2) ON CONFLICT (consumer) DO UPDATE SET last_seq = $2`,
      [CONSUMERS.alertsPartition(alertPartitionOf(ORGS[0], 2), 2), lastSeq],
    );
    const { evaluator } = await startAlerts();
    await waitFor('the rules loaded again', () => evaluator.partitions.length === 2 && evaluator.rulesLoaded() === 5, 20_000);
    await feed(ORGS[0], [point('replayed', 1, 2)]);
    const rows = await waitFor('the alert of the later message', async () => {
      const found = await alerts(id);
      return found.length > 0 && found;
    });
    expect(rows.map((row) => row.value)).toEqual([2]);
  }, 60_000);

  it('takes the runs of one series from several messages of one batch point by point when one crosses: quiet, fired, resolved, fired', async () => {
    const id = await rule(ORGS[0], { metric: 'batched', condition: { type: 'above', threshold: 10 } });
    await waitFor('the rule loaded', () => apps[0].get(EvaluatorService).rulesLoaded() === 6);
    while (apps.length) await apps.pop()!.close();
    // Stored while no instance runs: the next one takes the three messages in one batch.
    await feed(ORGS[0], [point('batched', 0, 1), point('batched', 1, 2)]);
    await feed(ORGS[0], [point('batched', 2, 11), point('batched', 3, 3)]);
    await feed(ORGS[0], [point('batched', 4, 4), point('batched', 5, 12)]);
    const { evaluator } = await startAlerts();
    await waitFor('the rules loaded again', () => evaluator.partitions.length === 2 && evaluator.rulesLoaded() === 6, 20_000);
    const rows = await waitFor('both alerts', async () => {
      const found = await alerts(id);
      return found.length === 2 && found;
    });
    expect(rows.map((row) => [row.state, row.fired_at.getTime()])).toEqual([
      ['resolved', (T0 + 2) * 1000],
      ['firing', (T0 + 5) * 1000],
    ]);
  }, 60_000);

  it('outlasts junk written into the partition and presence buckets, and follows presence from the devices bucket', async () => {
    const { Kvm } = await import('@nats-io/kv');
    const { BUCKETS, deviceKey } = await import('#common');
    const evaluator = apps[0].get(EvaluatorService);
    const id = await rule(ORGS[0], { source_id: 'dev-1', condition: { type: 'offline', seconds: 1 } });
    await waitFor('the rule loaded', () => evaluator.rulesLoaded() === 7);
    const kvm = new Kvm(await scope.nats());
    const partitions = await kvm.open(BUCKETS.alertPartitions);
    const devices = await kvm.open(BUCKETS.presenceDevices);
    // A partition's key overwritten, a fake instance (it shrinks the share until its lease runs out), junk values.
    await partitions.put('p0', '\u0000\ud800 not an instance');
    await partitions.put('i.forged', 'x'.repeat(100_000));
    await partitions.put('zz', '{');
    for (const key of ['x', 'a.b.c', '=zzzz.dev-1', 'org-0.=d800', 'a.b.c.d.e', '=0000.=0000']) await devices.put(key, 'x'.repeat(100_000));
    await devices.put(deviceKey(ORGS[0], 'dev-1'), '\u0000\ud800');
    await waitFor(
      'both partitions held again once the junk expired',
      () => evaluator.partitions.length === 2 && evaluator.rulesLoaded() === 7,
      30_000,
    );
    await devices.put(deviceKey(ORGS[0], 'dev-1'), JSON.stringify({ instance_id: 'abcdef012345', connection_id: 'c1' }));
    await devices.delete(deviceKey(ORGS[0], 'dev-1'));
    const rows = await waitFor('the offline alert', async () => {
      const found = await alerts(id);
      return found.length > 0 && found;
    });
    expect(rows).toHaveLength(1);
    expect(rows[0].state).toBe('firing');
  }, 60_000);
  it('reads back the points of summarised series whose span may cross, over sessions, and only the org’s own', async () => {
    const evaluator = apps[0].get(EvaluatorService);
    const id = await rule(ORGS[0], { metric: 'summed', condition: { type: 'above', threshold: 10 } });
    const silent = await rule(ORGS[0], { source_id: 'rig', metric: 'quiet', condition: { type: 'no_data', seconds: 1 } });
    await waitFor('the rules loaded', () => evaluator.rulesLoaded() === 9);
    // A summary naming another org's series on this org's feed: its points are not this org's to read.
    const foreign = await storeSeries(ORGS[1], 'summed', '', [[20, 99]]);
    await feedSummary(ORGS[0], [{ id: foreign, metric: 'summed', points: [[20, 99]] }]);
    // The same series over two sessions (two storage series): quiet, fired, resolved, fired.
    const plain: Array<[number, unknown]> = [
      [0, 1],
      [1, 2],
      [2, 11],
      [3, 3],
    ];
    const recorded: Array<[number, unknown]> = [
      [4, 'text'],
      [5, 12],
    ];
    const a = await storeSeries(ORGS[0], 'summed', '', plain);
    const b = await storeSeries(ORGS[0], 'summed', 'run-1', recorded);
    await feedSummary(ORGS[0], [
      { id: a, metric: 'summed', points: plain },
      { id: b, metric: 'summed', points: recorded },
    ]);
    const rows = await waitFor('both alerts', async () => {
      const found = await alerts(id);
      return found.length === 2 && found;
    });
    expect(rows.map((row) => [row.state, row.fired_at.getTime(), row.value])).toEqual([
      ['resolved', (T0 + 2) * 1000, 11],
      ['firing', (T0 + 5) * 1000, 12],
    ]);
    // no_data: silent for a second, it fires; a summary of a text point (no numbers) is data and resolves it.
    await waitFor('the no_data alert', async () => (await alerts(silent)).length === 1);
    const text = await storeSeries(ORGS[0], 'quiet', '', [[30, 'on']]);
    await feedSummary(ORGS[0], [{ id: text, metric: 'quiet', points: [[30, 'on']] }]);
    await waitFor('the no_data alert resolved', async () => (await alerts(silent))[0]?.state === 'resolved');
    expect(await alerts(id)).toHaveLength(2);
  }, 60_000);

  it('reloads an org once more for a burst of rule changes, not once per change, and ends with every rule', async () => {
    const evaluator = apps[0].get(EvaluatorService);
    await waitFor('both partitions held', () => evaluator.partitions.length === 2, 20_000);
    const before = evaluator.rulesLoaded();
    await scope.db.query(
      `INSERT INTO alert_rules (id, org_id, name, metric, condition)
       SELECT 'rule_burst' || i, $1, 'burst ' || i, 'burst', '{"type":"above","threshold":1}' FROM generate_series(1, 200) AS i`,
      [ORGS[1]],
    );
    const reads = jest.spyOn(apps[0].get(StateStore), 'rules');
    try {
      const nc = await scope.nats();
      for (let i = 0; i < 200; i++) nc.publish(SUBJECTS.alerts.rulesChanged, JSON.stringify({ org_id: ORGS[1] }));
      await waitFor('every rule of the burst loaded', () => evaluator.rulesLoaded() === before + 200);
      // Settled: no reload still running or owed (an owed one would read again).
      await waitFor('no reload running', () => ((evaluator as unknown as { reloading?: Map<string, unknown> }).reloading?.size ?? 0) === 0);
      // One read per change would be 200; a reload running while more come makes one more after it.
      expect(reads.mock.calls.length).toBeGreaterThanOrEqual(1);
      expect(reads.mock.calls.length).toBeLessThan(20);
    } finally {
      reads.mockRestore();
    }
    expect(evaluator.rulesLoaded()).toBe(before + 200);
  }, 60_000);

  it('outlasts hostile rules.changed messages, and reloads on the next real one', async () => {
    const evaluator = apps[0].get(EvaluatorService);
    const before = evaluator.rulesLoaded();
    const nc = await scope.nats();
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    for (const body of [
      'not json',
      '',
      '\u0000',
      deep,
      JSON.stringify({}),
      JSON.stringify({ org_id: 42 }),
      JSON.stringify({ org_id: null }),
      JSON.stringify({ org_id: ['default'] }),
      JSON.stringify({ org_id: 'a\u0000b' }),
      JSON.stringify({ org_id: '\ud800' }),
      JSON.stringify({ org_id: 'x'.repeat(100_000) }),
      ...Array.from({ length: 300 }, (_, i) => JSON.stringify({ org_id: `no-such-org-${i}` })),
    ])
      nc.publish(SUBJECTS.alerts.rulesChanged, body);
    nc.publish(SUBJECTS.alerts.rulesChanged, new Uint8Array([0xff, 0xfe, 0x80]));
    await nc.flush();
    const id = await rule(ORGS[0], { metric: 'after-junk', condition: { type: 'above', threshold: 1 } });
    await waitFor('the rule after the junk loaded', () => evaluator.rulesLoaded() === before + 1);
    await waitFor('no reload running', () => ((evaluator as unknown as { reloading?: Map<string, unknown> }).reloading?.size ?? 0) === 0);
    await feed(ORGS[0], [point('after-junk', 100, 5)]);
    await waitFor('the rule after the junk fired', async () => (await alerts(id)).length === 1);
  }, 60_000);
});
