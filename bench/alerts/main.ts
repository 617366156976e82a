/**
 * `npm run bench:alerts`: 1,000 alert rules evaluated at the full `bench:ingest` rate.
 *
 * One platform (pairing, ingest, gateway, alerts as separate processes; fresh database and NATS
 * prefix). Rounds of bench:ingest's headline load (300,000 points, batch 1000 × 8 clients, timed
 * from the first request until every point is committed) alternate between:
 * - without: the alerts app stopped (ingest still publishes its feed: that is the feature's cost
 *   on the ingest side, counted in "with" as well as here);
 * - with: the alerts app running with 1,000 rules on the load's metrics and sources (thresholds,
 *   ranges, tag matches, durations; none crossed by the load) and one probe rule.
 * In both, every 200 ms a probe point crosses the probe rule's line (alternately firing and
 * resolving it); with the alerts app running, the time from its request to the alert event on
 * NATS is the alert latency under load.
 * Pairs run in turn stopped → with and with → stopped (ABBA), after a first round's worth of
 * points to warm the whole platform. Before every round 60,000 points are sent untimed (a
 * restarted alerts app has caught up on what it missed while stopped and is warm: a deployed
 * alerts app runs warm), then the database is vacuumed and checkpointed.
 *
 * Options (environment): BENCH_POINTS (per round, default 300000), BENCH_ROUNDS (pairs of
 * rounds, default 4), BENCH_RULES (default 1000).
 */
import { cpus, loadavg } from 'node:os';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { CONSUMERS, type AlertEvent } from '../../libs/common/src/index.js';
import { drivePlexus, PLEXUS_PROCESSES, type Timing } from '../ingest/drive.js';
import { Platform } from '../ingest/platform.js';
import { plexusBodies, type Scenario } from '../ingest/scenarios.js';
import { waitFor } from '../../test/support/wait-for.js';

const TOTAL = Number(process.env.BENCH_POINTS || 300_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 4);
const RULES = Number(process.env.BENCH_RULES || 1000);
const PROBE_EVERY_MS = 200;
const PROCESSES = [...PLEXUS_PROCESSES.slice(0, 2), 'alerts', ...PLEXUS_PROCESSES.slice(2)];

/**
 * The load's 20 series are sources bench-0…19, each sending one metric: bench-k sends m(k mod 10)
 * (bench/ingest/scenarios.ts), values 0…150,000. Every rule watches series the load feeds: the
 * first 50 a metric on every source (5 per metric, so each watches 2 series), the other 950 one
 * source's metric each (47 or 48 per series), so a point is watched by about 52 rules.
 * Thresholds, ranges, tag matches and durations vary; none is crossed by the load.
 */
function rule(i: number): Record<string, unknown> {
  const conditions = [
    { type: 'above', threshold: 1e12 },
    { type: 'below', threshold: -1e12 },
    { type: 'outside', low: -1e12, high: 1e12 },
    { type: 'inside', low: -5e12, high: -4e12 },
  ];
  const everySource = i < 50;
  return {
    name: `bench rule ${i}`,
    metric: `m${i % 10}`,
    source_id: everySource ? null : `bench-${i % 20}`,
    tags: i % 3 === 0 ? { rig: 'a' } : null,
    condition: conditions[i % 4],
    for_seconds: i % 7,
    severity: 'warning',
  };
}

const quantile = (sorted: number[], q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const loadBefore = loadavg();
const platform = await Platform.start({ apps: ['pairing', 'ingest', 'gateway', 'alerts'] });
const nc = await connect({ servers: platform.env.NATS_URL as string });
const jsm = await jetstreamManager(nc);
const alertsMetric = async (name: string) => {
  const text = await (await fetch(`http://127.0.0.1:${platform.ports.alerts}/metrics`)).text();
  return Number(new RegExp(`^${name}(?:{[^}]*})? (\\d+)`, 'm').exec(text)?.[1] ?? -1);
};
const partitions = Number(platform.env.PLEXUS_ALERTS_PARTITIONS || 4);
/** Every partition consumer of the feed has nothing pending or unacked. */
const alertsCaughtUp = async () => {
  for (let i = 0; i < partitions; i++) {
    const info = await jsm.consumers.info(platform.streams.alertFeed, CONSUMERS.alertsPartition(i, partitions)).catch(() => undefined);
    if (!info || info.num_pending > 0 || info.num_ack_pending > 0) return false;
  }
  return true;
};

const rounds: Array<{ with: boolean; timing: Timing; caughtUpSeconds: number }> = [];
const latencies: number[] = [];
let probesSent = 0;
try {
  console.log(`making ${RULES} rules and a probe rule…`);
  for (let i = 0; i < RULES; i++) {
    const response = await platform.api('/api/rules', { method: 'POST', body: JSON.stringify(rule(i)) });
    if (response.status !== 201) throw new Error(`rule ${i}: ${response.status} ${await response.text()}`);
  }
  const probeResponse = await platform.api('/api/rules', {
    method: 'POST',
    body: JSON.stringify({ name: 'probe', source_id: 'probe', metric: 'probe', condition: { type: 'above', threshold: 0 } }),
  });
  const probeRule = (await probeResponse.json()) as { id: string };
  await waitFor(
    'the alerts app to load every rule',
    async () => (await alertsMetric('plexus_alert_rules_evaluated')) === RULES + 1,
    60_000,
  );

  // Probe points by their time (ms) → when their request was sent.
  const sentAt = new Map<number, number>();
  const events = nc.subscribe(platform.subjects.alerts.events('default'), {
    callback: (_, msg) => {
      const event = msg.json<AlertEvent>();
      if (event.alert.rule_id !== probeRule.id) return;
      const at = Date.parse(event.event === 'fired' ? event.alert.fired_at : (event.alert.resolved_at ?? ''));
      const sent = sentAt.get(at);
      if (sent !== undefined) latencies.push(performance.now() - sent);
    },
  });

  // Warm-ups (JIT, pools) at times of their own, untimed.
  let warmUps = 0;
  const warmUp = async (points = Math.min(TOTAL, 60_000)) => {
    const scenario: Scenario = { run: 70 + warmUps++, batch: 1000, clients: 8, sessions: false };
    await drivePlexus(platform, nc, scenario, plexusBodies(scenario, points), points, false, {
      apps: ['alerts'],
      order: PROCESSES,
    });
    if (platform.pidOf('alerts') !== undefined) await waitFor('the alerts app to catch up on the warm-up', alertsCaughtUp, 300_000);
  };
  // The whole platform first, with a round's worth of points: the first timed round ran 10-15 %
  // below the others after a short warm-up, and it was always a round without rules.
  await warmUp(TOTAL);
  for (let round = 0; round < ROUNDS * 2; round++) {
    // Pairs in turn stopped → with, with → stopped (ABBA): the points table grows round by round,
    // and a fixed order would give one side the larger table every time.
    const withAlerts = Math.floor(round / 2) % 2 === 0 ? round % 2 === 1 : round % 2 === 0;
    const scenario: Scenario = { run: 10 + round, batch: 1000, clients: 8, sessions: false };
    const bodies = plexusBodies(scenario, TOTAL);
    const running = platform.pidOf('alerts') !== undefined;
    if (!withAlerts && running) await platform.stopApp('alerts');
    if (withAlerts && !running) {
      await platform.startApp('alerts');
      await waitFor(
        'the alerts app to hold every partition and rule',
        async () => (await alertsMetric('plexus_alert_rules_evaluated')) === RULES + 1,
        60_000,
      );
      const started = Date.now();
      await waitFor('the alerts app to catch up on the feed', alertsCaughtUp, 300_000);
      console.log(`alerts app caught up on the previous round's feed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    // Before every round, either way: the same points added to the table on both sides, and a
    // restarted alerts app warm (a deployed one runs warm).
    await warmUp();
    // And the database settled: autovacuum and checkpoints otherwise land on whichever rounds
    // they land on (PostgreSQL's CPU per point rose by a third in rounds 2-5 of one run).
    await platform.db.query('VACUUM (ANALYZE)');
    await platform.db.query('CHECKPOINT');
    console.log(`round ${round + 1}: ${withAlerts ? `with ${RULES} rules` : 'alerts app stopped'}…`);
    // The probe runs in both kinds of round, so both ingest the same requests; only crossings
    // sent while the alerts app runs are timed (a restarted one judges the others late).
    let probing = true;
    const probe = (async () => {
      for (let k = 0; probing; k++) {
        const time = Date.now();
        if (withAlerts) {
          sentAt.set(time, performance.now());
          probesSent++;
        }
        await platform.ingest([{ source_id: 'probe', metric: 'probe', value: k % 2 === 0 ? 1 : -1, timestamp: time / 1000 }]);
        await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
      }
    })();
    const timing = await drivePlexus(platform, nc, scenario, bodies, TOTAL, false, { apps: ['alerts'], order: PROCESSES });
    probing = false;
    await probe;
    const lagStarted = performance.now();
    if (withAlerts) await waitFor('the alerts app to catch up', alertsCaughtUp, 300_000);
    rounds.push({ with: withAlerts, timing, caughtUpSeconds: withAlerts ? (performance.now() - lagStarted) / 1000 : 0 });
  }
  events.unsubscribe();
} finally {
  await nc.close();
  await platform.stop();
}

console.log(`\nPlexus alerts benchmark — ${RULES} rules, ${TOTAL.toLocaleString('en-US')} points per round, ${new Date().toISOString()}`);
console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), node ${process.version}`);
console.log(
  `load average when the bench started (1 / 5 / 15 min): ${loadBefore.map((n) => n.toFixed(1)).join(' / ')}` +
    (loadBefore[0] > cpus().length / 2 ? ' — the machine was already busy: figures may be low and noisy' : ''),
);
console.log('rates: points from the first request until all are committed (batch 1000 × 8 clients)\n');
console.log(`| round | alerts | points/s | alerts caught up after the last commit | CPU µs per point (${PROCESSES.join(' · ')}) |`);
console.log('|---|---|---|---|---|');
for (const [i, round] of rounds.entries()) {
  const parts = [...round.timing.cpu.values()];
  console.log(
    `| ${i + 1} | ${round.with ? `${RULES} rules` : 'stopped'} | ${fmt(TOTAL / round.timing.seconds)} | ${round.with ? `${round.caughtUpSeconds.toFixed(2)} s` : '—'} | ` +
      `${parts.map((us) => us.toFixed(2)).join(' · ')} = **${parts.reduce((a, b) => a + b, 0).toFixed(2)}** |`,
  );
}
const rate = (withAlerts: boolean) => {
  const chosen = rounds.filter((round) => round.with === withAlerts);
  return chosen.reduce((sum, round) => sum + TOTAL / round.timing.seconds, 0) / chosen.length;
};
const slowdown = 1 - rate(true) / rate(false);
const pairRatios: number[] = [];
for (let i = 0; i + 1 < rounds.length; i += 2) {
  const [withRound, without] = rounds[i].with ? [rounds[i], rounds[i + 1]] : [rounds[i + 1], rounds[i]];
  pairRatios.push(without.timing.seconds / withRound.timing.seconds);
}
console.log(
  `\nmean rate with rules / without: ${(rate(true) / rate(false)).toFixed(3)} (ingest slowed by ${(slowdown * 100).toFixed(1)} %); ` +
    `per pair: ${pairRatios.map((ratio) => ratio.toFixed(2)).join(', ')}`,
);
const sorted = [...latencies].sort((a, b) => a - b);
console.log(
  `alert latency under load (probe request → alert event on NATS), ${sorted.length} of ${probesSent} probe crossings: ` +
    `p50 ${quantile(sorted, 0.5).toFixed(0)} ms, p95 ${quantile(sorted, 0.95).toFixed(0)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(0)} ms`,
);
