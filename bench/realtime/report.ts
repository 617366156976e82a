import { fileLimitOf } from '../../scripts/file-limit.js';
import type { IdleResult } from './idle-sockets.js';
import { highestRate, held, type StepResult } from './rate-ladder.js';

const n = (value: number) => Math.round(value).toLocaleString('en-US');
const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)} ms` : '—');
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

export function stepLine(step: StepResult): string {
  const limited = `${step.rateLimitedMessages === undefined ? '—' : n(step.rateLimitedMessages)} / ${n(step.rateLimitedErrors)} (${step.limitedDevices})`;
  const cpu = [...step.cpuMicrosPerMessage.values()];
  const cpuText = `${cpu.map((value) => value.toFixed(1)).join(' · ')} = ${cpu.reduce((sum, value) => sum + value, 0).toFixed(1)}`;
  const other = Object.entries({ ...step.otherErrors, ...step.latency.otherFrames })
    .map(([kind, count]) => `${kind} ×${count}`)
    .join(', ');
  return (
    `| ${n(step.rate)} | ${step.system} | ${n(step.offeredRate)} | ${n(step.deliveredRate)} | ${n(step.delivered)} of ${n(step.sent)} | ` +
    `${ms(step.latency.p50)} | ${ms(step.latency.p99)} | ${ms(step.latency.max)} | ${limited} | ` +
    `${step.dropped === undefined ? '—' : n(step.dropped)} | ${cpuText} | ${held(step) ? 'yes' : 'no'}${other ? `; ${other}` : ''} |`
  );
}

export function ladderTable(results: StepResult[], cpuOrder: Record<string, string[]>): string[] {
  const lines = [
    '| target msg/s | system | offered msg/s | delivered msg/s | delivered | p50 | p99 | max | messages rate limited / RATE_LIMITED errors (devices limited) | dropped for the browser | CPU µs per delivered message | held |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map(stepLine),
  ];
  lines.push('', 'CPU columns, by system:');
  for (const [system, labels] of Object.entries(cpuOrder)) lines.push(`- ${system}: ${labels.join(' · ')} = total`);
  return lines;
}

export function highestLines(results: StepResult[], systems: string[]): string[] {
  const lines: string[] = [];
  for (const system of systems) {
    for (const p99 of [10, 50]) {
      const best = highestRate(results, system, p99);
      lines.push(
        `${system}: highest rate with p99 ≤ ${p99} ms: ${
          best ? `${n(best.rate)} msg/s (p99 ${ms(best.latency.p99)}, delivered ${n(best.deliveredRate)} msg/s)` : 'none of the ladder'
        }`,
      );
    }
    const peak = results
      .filter((step) => step.system === system)
      .reduce<StepResult | undefined>((best, step) => (!best || step.deliveredRate > best.deliveredRate ? step : best), undefined);
    if (peak) {
      lines.push(
        `${system}: peak delivered ${n(peak.deliveredRate)} msg/s (at ${n(peak.rate)} offered; p99 ${ms(peak.latency.p99)}, max ${ms(peak.latency.max)})`,
      );
    }
  }
  const limited = results.filter((step) => step.limitedDevices > 0 || step.rateLimitedMessages);
  lines.push(
    limited.length
      ? `RATE LIMITED devices inside their limit: ${limited.map((step) => `${step.system} at ${n(step.rate)}: ${step.limitedDevices} devices, ${n(step.rateLimitedMessages ?? 0)} messages`).join(', ')}`
      : 'No device was rate limited at any step (each stayed inside its limit).',
  );
  return lines;
}

export function idleLines(idle: IdleResult): string[] {
  const limit = idle.limitA ? `soft ${n(idle.limitA.soft)}, hard ${n(idle.limitA.hard)}` : 'unknown';
  const held = Math.max(1, idle.connected);
  const perSocket = (after: number, before: number) => kib((after - before) / held);
  const lines = [
    `Requested: ${n(idle.requested)} idle authenticated device sockets on instance A, from ${idle.processes} load generator processes.`,
    `Instance A's open-file limit: ${limit}${idle.limitProblem ? ` (${idle.limitProblem})` : ''}; ${n(idle.openBefore)} descriptors in use before; ` +
      `kept free for HTTP checks and NATS: 32 → attempted ${n(idle.attempted)}.`,
  ];
  if (idle.attempted < idle.requested) {
    lines.push(
      `NOT ${n(idle.requested)}: one process cannot hold more sockets than its open-file limit, and this machine's hard limit ` +
        `(${idle.limitA ? n(idle.limitA.hard) : '?'}) cannot be raised without CAP_SYS_RESOURCE (see docs/deploy.md, "Open files").`,
    );
  }
  lines.push(
    `Held: ${n(idle.connected)} authenticated (${n(idle.failed)} failed${idle.firstProblem ? `, first: ${idle.firstProblem}` : ''}) in ${idle.connectSeconds.toFixed(1)} s; ` +
      `A has ${n(idle.openAfter)} descriptors open.`,
    `Presence: A's /stats devices ${n(idle.statsDevices)}; presence bucket entries ${n(idle.bucketEntries)}; ` +
      `a new browser's init on B lists ${n(idle.initOnline)} online; GET /api/sources: ${idle.api.text}.`,
    `Presence correct: ${
      idle.statsDevices === idle.connected &&
      idle.bucketEntries === idle.connected &&
      idle.initOnline === idle.connected &&
      idle.api.online === idle.connected
        ? 'yes'
        : 'NO'
    }.`,
    `Memory on A, as read 3 s after the last socket: resident ${kib(idle.rssBeforeBytes)} → ${kib(idle.rssAfterBytes)}, ` +
      `${perSocket(idle.rssAfterBytes, idle.rssBeforeBytes)} per socket; JS heap used ${kib(idle.heapBeforeBytes)} → ${kib(idle.heapAfterBytes)}, ` +
      `${perSocket(idle.heapAfterBytes, idle.heapBeforeBytes)} per socket.`,
    idle.gcProblem
      ? `Memory after a full garbage collection: not measured (${idle.gcProblem}).`
      : `Memory on A after a full garbage collection (before and after): resident ${perSocket(idle.rssAfterGcBytes, idle.rssBeforeBytes)} per socket, ` +
          `JS heap used ${perSocket(idle.heapAfterGcBytes, idle.heapBeforeBytes)} per socket.`,
  );
  return lines;
}

export function limitLines(pids: Record<string, number>): string[] {
  return Object.entries(pids).map(([name, pid]) => {
    const limit = fileLimitOf(pid);
    return `- ${name} (pid ${pid}): open files ${limit ? `soft ${n(limit.soft)}, hard ${n(limit.hard)}` : 'unknown'}`;
  });
}
