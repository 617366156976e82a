/**
 * `npm run bench:alerts`: 1,000 alert rules evaluated at the full `bench:ingest` rate.
 *
 * One platform (pairing, ingest, gateway, alerts as separate processes; fresh database and NATS
 * prefix) under one unbroken load of bench:ingest's headline shape (batch 1000 × 8 clients, as
 * fast as the platform answers; bench/alerts/load.ts). Windows of a few seconds alternate between:
 * - stopped: the alerts app paused (SIGSTOP: no CPU, no work; ingest still publishes its feed,
 *   which is the feature's cost on the ingest side, counted on both sides);
 * - with rules: the alerts app running with 1,000 rules on the load's metrics and sources
 *   (thresholds, ranges, tag matches, durations; none crossed by the load) and one probe rule.
 * In pairs, in turn stopped → with and with → stopped (ABBA). A window's rate is the points ingest
 * committed per second (its own counter) over the window's measured part: a paused app is measured
 * from half a second after the pause, a resumed one from when it has caught up on the feed it
 * missed (that backlog is the paused window's work, not this one's). Its partition lease is made
 * longer than a pause so it keeps its partitions.
 *
 * Why windows, not rounds of a fixed number of points: on this 2-core machine the pipeline's CPU
 * per point drifts by ±10 % and more over tens of seconds with the same work (every process
 * together: the machine, not the platform), and rounds of 2–5 s each with a warm-up and a vacuum
 * between them put a pair's two halves 10–15 s apart. Adjacent windows of one load see the same
 * machine, and a run holds many of them.
 *
 * Every second a probe point crosses the probe rule's line (alternately firing and resolving it);
 * while the alerts app runs, the time from its request to the alert event on NATS is the alert
 * latency under load. (Every 200 ms until 2026-12-02 11:35: five alert transitions a second, each
 * an alert row, its state and an event in a transaction, were a load of their own — 18,000 alerts
 * an hour — and cost about as much ingest rate as the 1,000 rules and the app together.)
 *
 * The verdict is the mean of the pairs' ratios (rate with rules over rate stopped) with its 95 %
 * confidence interval: a run shows "slowed by less than 10 %" when the interval's far end is under
 * it, and says so. Beside it, the alerts app's share of the pipeline's CPU in the windows with rules.
 *
 * Options (environment): BENCH_PAIRS (pairs of windows, default 60: about 10 minutes; 30 pairs left the interval's far end at 7.7–10.2 % with a mean of 4–6.5 %), BENCH_WINDOW_S (seconds a
 * window, default 4), BENCH_WARMUP_S (load before the first window, default 10), BENCH_RULES
 * (default 1000), BENCH_PROBE_MS (default 1000).
 */
import { cpus, loadavg } from 'node:os';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { alertPartitionOf, CONSUMERS, type AlertEvent } from '../../libs/common/src/index.js';
import { labelling, PLEXUS_PROCESSES } from '../ingest/drive.js';
import { Platform } from '../ingest/platform.js';
import { perPoint } from '../ingest/process-cpu.js';
import { waitFor } from '../../test/support/wait-for.js';
import { EndlessLoad } from './load.js';

const PAIRS = Number(process.env.BENCH_PAIRS || 60);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_S || 4) * 1000;
const WARMUP_MS = Number(process.env.BENCH_WARMUP_S || 10) * 1000;
const RULES = Number(process.env.BENCH_RULES || 1000);
const PROBE_EVERY_MS = Number(process.env.BENCH_PROBE_MS || 1000);
/** A paused app is measured from this long after the pause (what it had in hand is done). */
const SETTLE_MS = 500;
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
// A paused alerts app keeps its partitions (the lease outlasts a window); renewals stay every 2 s.
const platform = await Platform.start({
  apps: ['pairing', 'ingest', 'gateway', 'alerts'],
  env: { PLEXUS_ALERTS_LEASE_MS: '600000' },
});
let paused = false;
/** Pauses (SIGSTOP) or resumes (SIGCONT) the alerts app. */
const pauseAlerts = (pause: boolean) => {
  const pid = platform.pidOf('alerts');
  if (pid === undefined) throw new Error('the alerts app is not running');
  process.kill(pid, pause ? 'SIGSTOP' : 'SIGCONT');
  paused = pause;
};
const nc = await connect({ servers: platform.env.NATS_URL as string });
const jsm = await jetstreamManager(nc);
const metric = async (app: 'alerts' | 'ingest', name: string) => {
  const text = await (await fetch(`http://127.0.0.1:${platform.ports[app]}/metrics`)).text();
  return Number(new RegExp(`^${name}(?:{[^}]*})? (\\d+)`, 'm').exec(text)?.[1] ?? -1);
};
const partitions = Number(platform.env.PLEXUS_ALERTS_PARTITIONS || 4);
// Every point of the bench is org "default"'s: one partition's consumer has all of the feed.
const feedConsumer = CONSUMERS.alertsPartition(alertPartitionOf('default', partitions), partitions);
/** Resolves when the alerts app has acked the whole feed as it stood when this was called. */
const catchUp = async () => {
  const last = (await jsm.streams.info(platform.streams.alertFeed)).state.last_seq;
  await waitFor(
    'the alerts app to catch up on the feed',
    async () => (await jsm.consumers.info(platform.streams.alertFeed, feedConsumer)).ack_floor.stream_seq >= last,
    60_000,
  );
};
const pids = new Map<number, string>();
for (const app of ['gateway', 'ingest', 'pairing', 'alerts'] as const) {
  const pid = platform.pidOf(app);
  if (pid !== undefined) pids.set(pid, app === 'pairing' ? 'gateway' : app);
}
const processCpu = labelling(pids);

interface Window {
  with: boolean;
  seconds: number;
  committed: number;
  accepted: number;
  cpu: Map<string, number>;
  caughtUpSeconds: number;
}
const windows: Window[] = [];
const latencies: number[] = [];
let probesTimed = 0;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
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
    async () => (await metric('alerts', 'plexus_alert_rules_evaluated')) === RULES + 1,
    60_000,
  );

  // Probe points by their time (ms) → when their request was sent, for those sent while timed.
  const sentAt = new Map<number, number>();
  /** Timed probes whose alert event has not come yet. */
  const unanswered = new Set<number>();
  const events = nc.subscribe(platform.subjects.alerts.events('default'), {
    callback: (_, msg) => {
      const event = msg.json<AlertEvent>();
      if (event.alert.rule_id !== probeRule.id) return;
      const at = Date.parse(event.event === 'fired' ? event.alert.fired_at : (event.alert.resolved_at ?? ''));
      const sent = sentAt.get(at);
      if (sent !== undefined && unanswered.delete(at)) latencies.push(performance.now() - sent);
    },
  });
  let timingProbes = false;
  let probing = true;
  const probe = (async () => {
    for (let k = 0; probing; k++) {
      const time = Date.now();
      if (timingProbes) {
        sentAt.set(time, performance.now());
        unanswered.add(time);
        probesTimed++;
      }
      await platform.ingest([{ source_id: 'probe', metric: 'probe', value: k % 2 === 0 ? 1 : -1, timestamp: time / 1000 }]);
      await delay(PROBE_EVERY_MS);
    }
  })();

  const load = new EndlessLoad(new URL(`${platform.gateway}/api/ingest`), platform.adminKey);
  try {
    console.log(`load running; warming up for ${WARMUP_MS / 1000} s with the alerts app running…`);
    await delay(WARMUP_MS);
    for (let w = 0; w < PAIRS * 2; w++) {
      if (load.failure) throw load.failure;
      // Pairs in turn stopped → with, with → stopped (ABBA): a drift over a pair weighs on both sides alike.
      const withAlerts = Math.floor(w / 2) % 2 === 0 ? w % 2 === 1 : w % 2 === 0;
      const windowStarted = performance.now();
      let caughtUpSeconds = 0;
      if (withAlerts) {
        if (paused) pauseAlerts(false);
        await catchUp();
        caughtUpSeconds = (performance.now() - windowStarted) / 1000;
      } else {
        if (!paused) pauseAlerts(true);
        await delay(SETTLE_MS);
      }
      timingProbes = withAlerts;
      const committedBefore = await metric('ingest', 'plexus_writer_points_written_total');
      const acceptedBefore = load.accepted;
      const cpuBefore = processCpu.read();
      const measureStarted = performance.now();
      await delay(Math.max(1000, windowStarted + WINDOW_MS - performance.now()));
      const committed = (await metric('ingest', 'plexus_writer_points_written_total')) - committedBefore;
      const seconds = (performance.now() - measureStarted) / 1000;
      windows.push({
        with: withAlerts,
        seconds,
        committed,
        accepted: load.accepted - acceptedBefore,
        cpu: perPoint(cpuBefore, processCpu.read(), committed, PROCESSES),
        caughtUpSeconds,
      });
      timingProbes = false;
      // Every probe timed gets its answer before a pause could hold it back (unmeasured; one
      // unanswered after 5 s counts as missing).
      if (withAlerts) await waitFor('every timed probe answered', () => unanswered.size === 0, 5_000).catch(() => unanswered.clear());
      const last = windows.at(-1)!;
      console.log(
        `window ${w + 1}: ${withAlerts ? `with ${RULES} rules` : 'alerts app paused'}, ${fmt(last.committed / last.seconds)} points/s committed`,
      );
    }
  } finally {
    if (paused) pauseAlerts(false);
    await load.stop();
    probing = false;
    await probe;
  }
  const backlog = (await jsm.consumers.info(platform.streams.telemetry, CONSUMERS.ingestWriter)).num_pending;
  const stalls = await metric('ingest', 'plexus_writer_pull_stalls_total');
  console.log(`ingest's backlog when the load stopped: ${backlog} messages; its pulls that stalled (2 s each): ${stalls}`);
  events.unsubscribe();
} finally {
  if (paused) pauseAlerts(false);
  await nc.close();
  await platform.stop();
}

console.log(
  `\nPlexus alerts benchmark — ${RULES} rules, ${PAIRS} pairs of ${WINDOW_MS / 1000}-second windows, ${new Date().toISOString()}`,
);
console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), node ${process.version}`);
console.log(
  `load average when the bench started (1 / 5 / 15 min): ${loadBefore.map((n) => n.toFixed(1)).join(' / ')}` +
    (loadBefore[0] > cpus().length / 2 ? ' — the machine was already busy: figures may be low and noisy' : ''),
);
console.log('rates: points committed per second under one unbroken load (batch 1000 × 8 clients)\n');
console.log(
  `| window | alerts | committed points/s | accepted points/s | measured from | CPU µs per committed point (${PROCESSES.join(' · ')}) |`,
);
console.log('|---|---|---|---|---|---|');
for (const [i, window] of windows.entries()) {
  const parts = [...window.cpu.values()];
  console.log(
    `| ${i + 1} | ${window.with ? `${RULES} rules` : 'paused'} | ${fmt(window.committed / window.seconds)} | ${fmt(window.accepted / window.seconds)} | ` +
      `${window.with ? `caught up after ${window.caughtUpSeconds.toFixed(2)} s` : `${SETTLE_MS / 1000} s`} | ` +
      `${parts.map((us) => us.toFixed(2)).join(' · ')} = **${parts.reduce((a, b) => a + b, 0).toFixed(2)}** |`,
  );
}
const ratiosOf = (count: (window: Window) => number) => {
  const ratios: number[] = [];
  for (let i = 0; i + 1 < windows.length; i += 2) {
    const [withWindow, without] = windows[i].with ? [windows[i], windows[i + 1]] : [windows[i + 1], windows[i]];
    ratios.push(count(withWindow) / withWindow.seconds / (count(without) / without.seconds));
  }
  return ratios;
};
const pairRatios = ratiosOf((window) => window.committed);
const accepted = meanWithInterval(ratiosOf((window) => window.accepted));
const { mean, low, high } = meanWithInterval(pairRatios);
const percent = (ratio: number) => `${((1 - ratio) * 100).toFixed(1)} %`;
console.log(
  `\nrate with rules / paused, per pair: ${pairRatios.map((ratio) => ratio.toFixed(2)).join(', ')}; ` +
    `mean ${mean.toFixed(3)} (95 % interval ${low.toFixed(3)}–${high.toFixed(3)})`,
);
console.log(
  `ingest slowed by ${percent(mean)} (95 % interval ${percent(high)} to ${percent(low)}): ` +
    (1 - low < 0.1
      ? 'less than 10 %, shown'
      : 1 - mean < 0.1
        ? 'under 10 % on the mean, not shown at 95 % (more pairs: BENCH_PAIRS)'
        : 'NOT under 10 %'),
);
console.log(
  `(by points accepted, durable in JetStream, instead of committed: mean ${accepted.mean.toFixed(3)}, ` +
    `95 % interval ${accepted.low.toFixed(3)}–${accepted.high.toFixed(3)})`,
);
const alertsIndex = PROCESSES.indexOf('alerts');
const withWindows = windows.filter((window) => window.with);
const share =
  withWindows.reduce((sum, window) => {
    const parts = [...window.cpu.values()];
    return sum + parts[alertsIndex] / parts.reduce((a, b) => a + b, 0);
  }, 0) / withWindows.length;
console.log(`the alerts app's share of the pipeline's CPU in the windows with rules: ${(share * 100).toFixed(1)} %`);
const sorted = [...latencies].sort((a, b) => a - b);
console.log(
  `alert latency under load (probe request → alert event on NATS), ${sorted.length} of ${probesTimed} probe crossings: ` +
    `p50 ${quantile(sorted, 0.5).toFixed(0)} ms, p95 ${quantile(sorted, 0.95).toFixed(0)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(0)} ms`,
);

/** The mean of the samples and its two-sided 95 % confidence interval (Student's t). */
function meanWithInterval(samples: number[]): { mean: number; low: number; high: number } {
  const n = samples.length;
  const mean = samples.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, low: -Infinity, high: Infinity };
  const variance = samples.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (n - 1);
  // t(0.975, n − 1) for 1…20 degrees of freedom; beyond, 20's (a little wider than the truth).
  const T = [12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.2, 2.18, 2.16, 2.14, 2.13, 2.12, 2.11, 2.1, 2.09, 2.09];
  const t = T[Math.min(n - 2, T.length - 1)];
  const half = t * Math.sqrt(variance / n);
  return { mean, low: mean - half, high: mean + half };
}
