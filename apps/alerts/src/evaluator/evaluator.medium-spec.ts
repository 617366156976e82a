import { describe, expect, it } from '@jest/globals';
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
const { alertPartitionOf, encodeFeedMessage, encodeTelemetry, ENCODING_HEADER, BATCH_ENCODING, FEED_ENCODING, SUBJECTS } =
  await import('#common');

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
});
