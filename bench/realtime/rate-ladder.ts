import { type CpuSeconds, perPoint, type ProcessCpu } from '../ingest/process-cpu.js';
import type { StepLatency } from './browser-load.js';
import type { SendReply } from './device-load.js';
import type { Child } from './ipc.js';

/** One system under test: Plexus (devices on A, browser on B) or the minimal relay. */
export interface System {
  name: string;
  /** The senders' device pool and the browser's receiver for this system. */
  pool: string;
  /** Processes whose CPU counts for this system, in the order printed (loadgens last). */
  cpuLabels: string[];
  /** Live telemetry dropped for slow browsers so far (Plexus: B's /stats), if the system counts it. */
  dropped?: () => Promise<number>;
  /** Device messages ignored for their rate so far (Plexus: A's /metrics), if the system counts them. */
  rateLimitedMessages?: () => Promise<number>;
}

export interface Rig {
  senders: Child[];
  browser: Child;
  cpu: ProcessCpu;
  seconds: number;
  drainSeconds: number;
  /** Unmeasured send time at a step's rate right before its measured window (0: none). */
  settleSeconds: number;
}

export interface StepResult {
  system: string;
  rate: number;
  sent: number;
  offeredRate: number;
  delivered: number;
  deliveredRate: number;
  latency: StepLatency;
  rateLimitedErrors: number;
  limitedDevices: number;
  otherErrors: Record<string, number>;
  closedDuringStep: number;
  maxBufferedBytes: number;
  dropped?: number;
  rateLimitedMessages?: number;
  cpuMicrosPerMessage: Map<string, number>;
}

let steps = 0;
/** How messages the unmeasured lead-in of a step lost are counted (with its other errors). */
const LOST_IN_LEAD_IN = 'lost in the unmeasured lead-in';

/** Sends `rate` messages/s (split over the sender processes) for rig.seconds and measures what the browser got. */
export async function runStep(rig: Rig, system: System, rate: number): Promise<StepResult> {
  const tag = `bench-step-${++steps}`;
  await rig.browser.ask({ op: 'start', target: system.pool, tag });
  const droppedBefore = await system.dropped?.();
  const limitedBefore = await system.rateLimitedMessages?.();
  const cpuBefore: CpuSeconds = rig.cpu.read();
  const replies = await Promise.all(
    rig.senders.map((sender) =>
      sender.ask<SendReply>({ op: 'send', pool: system.pool, rate: rate / rig.senders.length, seconds: rig.seconds, tag }),
    ),
  );
  const sent = replies.reduce((sum, reply) => sum + reply.sent, 0);
  // Wait for the rest to arrive: until all did, nothing came for 3 s, or the drain time is up.
  const drainDeadline = Date.now() + rig.drainSeconds * 1000;
  let received = 0;
  let progressAt = Date.now();
  while (Date.now() < drainDeadline && Date.now() - progressAt < 3000) {
    const now = await rig.browser.ask<number>({ op: 'progress', target: system.pool });
    if (now >= sent) break;
    if (now > received) progressAt = Date.now();
    received = now;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const cpuAfter = rig.cpu.read();
  const latency = await rig.browser.ask<StepLatency>({ op: 'finish', target: system.pool });
  const droppedAfter = await system.dropped?.();
  const limitedAfter = await system.rateLimitedMessages?.();
  const startedAtMs = Math.min(...replies.map((reply) => reply.startedAtMs));
  const sendSeconds = Math.max(...replies.map((reply) => reply.seconds));
  const deliverySeconds = Math.max(sendSeconds, (latency.lastArrivalMs - startedAtMs) / 1000);
  return {
    system: system.name,
    rate,
    sent,
    offeredRate: sent / sendSeconds,
    delivered: latency.received,
    deliveredRate: latency.received / deliverySeconds,
    latency,
    rateLimitedErrors: replies.reduce((sum, reply) => sum + reply.rateLimitedErrors, 0),
    limitedDevices: replies.reduce((sum, reply) => sum + reply.limitedDevices, 0),
    otherErrors: mergeCounts(replies.map((reply) => reply.otherErrors)),
    closedDuringStep: replies.reduce((sum, reply) => sum + reply.closedDuringStep, 0),
    maxBufferedBytes: Math.max(...replies.map((reply) => reply.maxBufferedBytes)),
    dropped: droppedBefore === undefined || droppedAfter === undefined ? undefined : droppedAfter - droppedBefore,
    rateLimitedMessages: limitedBefore === undefined || limitedAfter === undefined ? undefined : limitedAfter - limitedBefore,
    cpuMicrosPerMessage: perPoint(cpuBefore, cpuAfter, Math.max(1, latency.received), system.cpuLabels),
  };
}

/**
 * A step counts as held when every message sent arrived (in its lead-in too), the senders offered the rate asked
 * (within 5 %) and no device was rate limited: only then does its p99 say something about the rate.
 */
export function held(step: StepResult): boolean {
  return (
    step.delivered >= step.sent &&
    !step.otherErrors[LOST_IN_LEAD_IN] &&
    step.offeredRate >= step.rate * 0.95 &&
    step.limitedDevices === 0 &&
    !step.rateLimitedMessages
  );
}

/** The highest rate of the ladder the system held with p99 at or under `p99Ms`. */
export function highestRate(results: StepResult[], system: string, p99Ms: number): StepResult | undefined {
  return results
    .filter((step) => step.system === system && held(step) && step.latency.p99 <= p99Ms)
    .reduce<StepResult | undefined>((best, step) => (!best || step.rate > best.rate ? step : best), undefined);
}

/**
 * The ladder, rate by rate, each system in turn at the same rate (so both meet the same machine
 * at about the same time). Each measured step follows `rig.settleSeconds` of the same load,
 * unmeasured: the first seconds at a new rate carry the processes' own adaptation to it (V8's
 * young generation growing, code optimised for the new mix), which a system running at that rate
 * has behind it — at 10k msg/s the first 5 s after lower rates had 2-3× the p99 of the next 5 s,
 * for both systems. A system whose p99 passed `stopP99Ms`, or that lost messages, is not driven
 * higher: it is past its knee and the next steps would only take time.
 */
export async function runLadder(
  rig: Rig,
  systems: System[],
  rates: number[],
  stopP99Ms: number,
  onStep: (step: StepResult) => void,
): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const stopped = new Set<string>();
  for (const rate of rates) {
    for (const system of systems) {
      if (stopped.has(system.name)) continue;
      const lead = rig.settleSeconds > 0 ? await runStep({ ...rig, seconds: rig.settleSeconds }, system, rate) : undefined;
      const step = withLeadIn(await runStep(rig, system, rate), lead);
      results.push(step);
      onStep(step);
      if (!(step.latency.p99 <= stopP99Ms) || step.delivered < step.sent * 0.99) stopped.add(system.name);
    }
  }
  return results;
}

/**
 * The measured step with what went wrong in its unmeasured lead-in added: a device limited, an
 * error or a frame dropped there counts against the rate as much as one in the measured window.
 */
function withLeadIn(step: StepResult, lead: StepResult | undefined): StepResult {
  if (!lead) return step;
  const sum = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? a : a + b);
  return {
    ...step,
    rateLimitedErrors: step.rateLimitedErrors + lead.rateLimitedErrors,
    // Devices limited in either window (the same device may be in both: the larger count, not the sum).
    limitedDevices: Math.max(step.limitedDevices, lead.limitedDevices),
    otherErrors: mergeCounts([
      step.otherErrors,
      lead.otherErrors,
      lead.delivered < lead.sent ? { [LOST_IN_LEAD_IN]: lead.sent - lead.delivered } : {},
    ]),
    closedDuringStep: step.closedDuringStep + lead.closedDuringStep,
    dropped: sum(step.dropped, lead.dropped),
    rateLimitedMessages: sum(step.rateLimitedMessages, lead.rateLimitedMessages),
  };
}

function mergeCounts(counts: Array<Record<string, number>>): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const count of counts) for (const [key, value] of Object.entries(count)) merged[key] = (merged[key] ?? 0) + value;
  return merged;
}
