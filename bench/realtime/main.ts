/**
 * `npm run bench:realtime`: how fast Plexus relays device telemetry to a browser across two
 * realtime instances, against a minimal one-process relay driven by the same load generators in
 * the same run, and how many idle device sockets one instance holds with its memory per socket
 * and presence still right. See docs/performance.md ("Realtime") for what each line means.
 *
 * Load generators are separate processes (dist/bench/realtime/device-load.js ×BENCH_SENDERS,
 * browser-load.js, minimal-relay.js); the bench itself only drives them and reads /proc.
 */
import { cpus, loadavg } from 'node:os';
import { readRealtimeConfig } from '../../apps/realtime/src/config.js';
import { Platform } from '../ingest/platform.js';
import { ProcessCpu } from '../ingest/process-cpu.js';
import type { ConnectReply } from './device-load.js';
import { raiseFileLimit } from '../../scripts/file-limit.js';
import { idleSockets } from './idle-sockets.js';
import { Child } from './ipc.js';
import { runLadder, runStep, type Rig, type System } from './rate-ladder.js';
import { highestLines, idleLines, ladderTable, limitLines, stepLine } from './report.js';

function numberList(name: string, fallback: string): number[] {
  const values = (process.env[name] || fallback).split(',').map((text) => Number(text.trim()));
  if (!values.length || values.some((value) => !Number.isFinite(value) || value <= 0)) {
    throw new Error(`${name} must be a comma-separated list of positive numbers, got "${process.env[name]}"`);
  }
  return values;
}

function positive(name: string, fallback: number, allowZero = false): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0))
    throw new Error(`${name} must be a positive number, got "${process.env[name]}"`);
  return value;
}

const RATES = numberList('BENCH_RATES', '1000,5000,10000,20000,30000,40000,50000,60000');
const SECONDS = positive('BENCH_SECONDS', 5);
const DRAIN_SECONDS = positive('BENCH_DRAIN_SECONDS', 10);
const SETTLE_SECONDS = positive('BENCH_SETTLE_SECONDS', 2, true);
const SENDERS = Math.max(2, Math.round(positive('BENCH_SENDERS', 2)));
const STOP_P99_MS = positive('BENCH_STOP_P99_MS', 3000);
const IDLE_SOCKETS = Math.round(positive('BENCH_IDLE_SOCKETS', 20_000, true));
const IDLE_PER_PROCESS = Math.round(positive('BENCH_IDLE_PER_PROCESS', 9000));

const log = (line: string) => process.stderr.write(`${line}\n`);
const started = new Date();
const loadAtStart = loadavg()[0];
const platform = await Platform.start({ apps: ['pairing', 'gateway', 'realtime'] });
const children: Child[] = [];
try {
  const portB = await platform.startCopy('realtime', 'realtime-b');
  const pidA = platform.pidOf('realtime') as number;
  const pidB = platform.pidOf('realtime-b') as number;
  // Devices share the load so that none passes half its limit at the top rate: one that is
  // limited anyway is a finding, not the bench's doing.
  const { deviceRatePerSecond, deviceBurst } = readRealtimeConfig(platform.env);
  const perProcessDevices = Math.max(2, Math.ceil(Math.max(...RATES) / (deviceRatePerSecond / 2) / SENDERS));

  const relay = Child.start('minimal relay', 'minimal-relay');
  const senders = Array.from({ length: SENDERS }, (_, i) => Child.start(`devices ${i + 1}`, 'device-load'));
  const browser = Child.start('browser', 'browser-load');
  children.push(relay, ...senders, browser);
  const relayPort = await relay.ask<number>({});
  const pids: Record<string, number> = { 'realtime A': pidA, 'realtime B': pidB, relay: relay.pid };
  senders.forEach((sender, i) => (pids[`device load ${i + 1}`] = sender.pid));
  pids['browser load'] = browser.pid;
  for (const pid of Object.values(pids)) await raiseFileLimit(pid);

  const loadgens = new Set([...senders, browser].map((child) => child.pid));
  const cpu = new ProcessCpu((pid, commandLine) => {
    if (pid === pidA) return 'realtime A';
    if (pid === pidB) return 'realtime B';
    if (pid === relay.pid) return 'relay';
    if (loadgens.has(pid)) return 'loadgens';
    return /(^|\/)nats-server\b/.test(commandLine) ? 'nats-server' : undefined;
  });
  const plexus: System = {
    name: 'Plexus',
    pool: 'plexus',
    cpuLabels: ['realtime A', 'realtime B', 'nats-server', 'loadgens'],
    rateLimitedMessages: async () => {
      const text = await (await fetch(`http://127.0.0.1:${platform.ports.realtime}/metrics`)).text();
      const line = text.split('\n').find((row) => row.startsWith('plexus_realtime_rate_limited_total{kind="device"}'));
      return line ? Number(line.split(' ').pop()) : 0;
    },
    dropped: async () =>
      ((await (await fetch(`http://127.0.0.1:${portB}/stats`)).json()) as { dropped_telemetry: number }).dropped_telemetry,
  };
  const minimal: System = { name: 'relay', pool: 'relay', cpuLabels: ['relay', 'loadgens'] };

  log(`connecting ${perProcessDevices * SENDERS} devices per system from ${SENDERS} processes`);
  for (const [system, url] of [
    [plexus, `ws://127.0.0.1:${platform.ports.realtime}/ws`],
    [minimal, `ws://127.0.0.1:${relayPort}/ws`],
  ] as const) {
    const replies = await Promise.all(
      senders.map((sender, i) =>
        sender.ask<ConnectReply>({
          op: 'connect',
          pool: system.pool,
          url,
          apiKey: platform.adminKey,
          count: perProcessDevices,
          prefix: `rate-${i}-`,
          concurrency: 20,
        }),
      ),
    );
    const failed = replies.find((reply) => reply.failed);
    if (failed) throw new Error(`${system.name}: ${failed.failed} devices failed to connect: ${failed.firstProblem}`);
    await browser.ask({
      op: 'connect',
      target: system.pool,
      url: system === plexus ? `ws://127.0.0.1:${portB}/ws` : `ws://127.0.0.1:${relayPort}/ws`,
      apiKey: platform.adminKey,
    });
  }

  const rig: Rig = { senders, browser, cpu, seconds: SECONDS, drainSeconds: DRAIN_SECONDS, settleSeconds: SETTLE_SECONDS };
  log('warm-up: 2 s at 2,000 msg/s each');
  for (const system of [plexus, minimal]) await runStep({ ...rig, seconds: 2, settleSeconds: 0 }, system, 2000);
  const results = await runLadder(rig, [plexus, minimal], RATES, STOP_P99_MS, (step) => log(stepLine(step)));
  for (const system of [plexus, minimal]) await Promise.all(senders.map((sender) => sender.ask({ op: 'close', pool: system.pool })));

  const idle = IDLE_SOCKETS
    ? await idleSockets(platform, {
        requested: IDLE_SOCKETS,
        perProcess: IDLE_PER_PROCESS,
        pidA,
        portA: platform.ports.realtime,
        portB,
        browser,
      })
    : undefined;

  const lines = [
    '',
    `Plexus realtime benchmark — ${started.toISOString()}; ${SECONDS} s measured per rate after ${SETTLE_SECONDS} s unmeasured at that rate; ${SENDERS} sender processes × ${perProcessDevices} devices ` +
      `per system (device limit ${deviceRatePerSecond}/s, burst ${deviceBurst}); Plexus: devices on instance A, browser on instance B (through NATS); ` +
      `relay: one-process ws relay, JSON parse + stringify per frame. Latency: send → browser, same monotonic clock.`,
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, load average ${loadAtStart.toFixed(2)} at start; ` +
      `everything (load generators, NATS, both systems) on these cores.`,
    '',
    'Open-file limits (each raised to its hard limit where it was lower):',
    ...limitLines(pids),
    '',
    ...ladderTable(results, { Plexus: plexus.cpuLabels, relay: minimal.cpuLabels }),
    '',
    ...highestLines(results, [plexus.name, minimal.name]),
    '',
    'Idle sockets:',
    ...(idle ? idleLines(idle) : ['skipped (BENCH_IDLE_SOCKETS=0)']),
  ];
  console.log(lines.join('\n'));
} finally {
  await Promise.all(children.map((child) => child.stop()));
  await platform.stop();
}
