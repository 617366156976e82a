import type { RuleState } from '#common';
import type { CompiledRule } from './rule-matcher.js';

/**
 * The state of one rule on one series (threshold and no_data rules: a source, a metric and a tag
 * set; offline rules: a source), as the alerts app stores it (alert_states) and the dry run keeps
 * it in memory. Plain and mutable: the functions below change it in place and answer the
 * transition they made, if any. Times are Unix milliseconds (fractions carry microseconds).
 */
export interface SeriesState {
  state: RuleState;
  /**
   * When the current state began: pending — when the condition began to hold (threshold: the
   * point's time; no_data and offline: the moment the silence or absence reached `seconds`);
   * firing — when it fired; ok — when it resolved, was cancelled, or the state was made.
   */
  since: number;
  /**
   * Threshold and no_data: the time of the last point evaluated (point time); a point at or
   * before it is ignored, which makes redelivery and replay idempotent. Offline: the time of the
   * last presence change applied (an older one is ignored).
   */
  lastPointAt: number | null;
  /**
   * Wall clock. no_data: when the last point arrived. Offline: when the source went offline
   * (null while it is online).
   */
  lastSeenAt: number | null;
  /** Threshold rules: the value of the last transition (what crossed the line, or what resolved it); null otherwise. */
  value: number | null;
  /** The alert raised by the last firing; the caller's to set and clear, never touched here. */
  alertId: string | null;
}

/** A step of the state machine. firing → ok is "resolved"; pending → ok is a cancelled pending. */
export interface Transition {
  from: RuleState;
  to: RuleState;
  /** ms: threshold — the point's time; no_data — the arrival (or the deadline that passed); offline — the presence change (or deadline). */
  at: number;
  /** Threshold rules: the point's value; null for no_data and offline. */
  value: number | null;
}

/** A fresh state (ok) for a series first seen at `atMs`. */
export function newSeriesState(atMs: number): SeriesState {
  return { state: 'ok', since: atMs, lastPointAt: null, lastSeenAt: null, value: null, alertId: null };
}

/** firing → ok: the alert is over. */
export function isResolved(transition: Transition): boolean {
  return transition.from === 'firing' && transition.to === 'ok';
}

function move(s: SeriesState, to: RuleState, at: number, value: number | null): Transition {
  const transition: Transition = { from: s.state, to, at, value };
  s.state = to;
  s.since = at;
  s.value = value;
  return transition;
}

const isThreshold = (rule: CompiledRule) => rule.type !== 'no_data' && rule.type !== 'offline';

/**
 * A point of a series the rule watches. Threshold rules: numbers only (anything else is ignored);
 * ok → pending when it meets the condition (ok → firing at once when for_seconds is 0), pending →
 * firing at the first point at or after since + for_seconds that still meets it, pending → ok and
 * firing → ok on one that does not. no_data rules: any value is data — the arrival is recorded
 * and a pending or firing series goes back to ok. Offline rules ignore points.
 * A point at or before the last one evaluated changes nothing.
 */
export function onPoint(
  rule: CompiledRule,
  s: SeriesState,
  pointTimeMs: number,
  value: unknown,
  arrivedAtMs: number,
): Transition | undefined {
  if (rule.type === 'offline') return undefined;
  if (s.lastPointAt !== null && pointTimeMs <= s.lastPointAt) return undefined;
  if (rule.type === 'no_data') {
    s.lastPointAt = pointTimeMs;
    s.lastSeenAt = s.lastSeenAt === null ? arrivedAtMs : Math.max(s.lastSeenAt, arrivedAtMs);
    return s.state === 'ok' ? undefined : move(s, 'ok', arrivedAtMs, null);
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  s.lastPointAt = pointTimeMs;
  s.lastSeenAt = s.lastSeenAt === null ? arrivedAtMs : Math.max(s.lastSeenAt, arrivedAtMs);
  const meets = rule.meets(value);
  switch (s.state) {
    case 'ok':
      if (!meets) return undefined;
      return move(s, rule.forMs === 0 ? 'firing' : 'pending', pointTimeMs, value);
    case 'pending':
      if (!meets) return move(s, 'ok', pointTimeMs, value);
      if (pointTimeMs >= s.since + rule.forMs) return move(s, 'firing', pointTimeMs, value);
      return undefined;
    case 'firing':
      return meets ? undefined : move(s, 'ok', pointTimeMs, value);
  }
}

/**
 * One step of the no_data and offline timers at `nowMs` (the caller calls again until it answers
 * undefined, so a long gap gives ok → pending and then pending → firing, each at its own time).
 * The silence (no_data: since the last arrival; offline: since the source went offline) reaching
 * `seconds` makes ok → pending at that moment, or ok → firing when for_seconds is 0; pending →
 * firing when for_seconds more have passed. A deadline equal to `nowMs` has passed.
 */
export function onTick(rule: CompiledRule, s: SeriesState, nowMs: number): Transition | undefined {
  return timerStep(rule, s, nowMs, false);
}

/**
 * onTick for the moment just before a point at `pointTimeMs`: only deadlines strictly before it
 * have passed. The dry run calls it before each point, so a gap of exactly `seconds` between
 * points does not fire and resolve at the same instant.
 */
export function onTickBefore(rule: CompiledRule, s: SeriesState, pointTimeMs: number): Transition | undefined {
  return timerStep(rule, s, pointTimeMs, true);
}

function timerStep(rule: CompiledRule, s: SeriesState, nowMs: number, strict: boolean): Transition | undefined {
  if (isThreshold(rule) || s.lastSeenAt === null) return undefined;
  const passed = (deadline: number) => (strict ? deadline < nowMs : deadline <= nowMs);
  if (s.state === 'ok') {
    const start = s.lastSeenAt + rule.windowMs;
    if (!passed(start)) return undefined;
    return move(s, rule.forMs === 0 ? 'firing' : 'pending', start, null);
  }
  if (s.state === 'pending') {
    const fireAt = s.since + rule.forMs;
    return passed(fireAt) ? move(s, 'firing', fireAt, null) : undefined;
  }
  return undefined;
}

/**
 * A presence change of the source (offline rules; other rules ignore it). Going offline starts
 * the absence (onTick fires it later); coming online ends it: pending → ok, firing → ok. A change
 * older than the last one applied is ignored; going offline while already offline keeps the
 * first time.
 */
export function onPresence(rule: CompiledRule, s: SeriesState, online: boolean, atMs: number): Transition | undefined {
  if (rule.type !== 'offline') return undefined;
  if (s.lastPointAt !== null && atMs < s.lastPointAt) return undefined;
  s.lastPointAt = atMs;
  if (!online) {
    if (s.lastSeenAt === null) s.lastSeenAt = atMs;
    return undefined;
  }
  s.lastSeenAt = null;
  return s.state === 'ok' ? undefined : move(s, 'ok', atMs, null);
}

/** The numbers of a run of points of one series (one series of one feed message): enough to skip a quiet run. */
export interface NumberRun {
  /** Smallest and largest finite value, and the latest time of a finite value (ms); count 0: none. */
  min: number;
  max: number;
  latestMs: number;
  count: number;
}

export function numberRun(timesUs: ArrayLike<number>, nums: ArrayLike<number>): NumberRun {
  let min = Infinity;
  let max = -Infinity;
  let latestUs = -Infinity;
  let count = 0;
  for (let i = 0; i < nums.length; i++) {
    const value = nums[i];
    if (Number.isNaN(value)) continue;
    count++;
    if (value < min) min = value;
    if (value > max) max = value;
    if (timesUs[i] > latestUs) latestUs = timesUs[i];
  }
  return { min, max, latestMs: latestUs / 1000, count };
}

/**
 * A run of a threshold rule's series that makes no transition, seen from its span alone: at rest
 * (ok) with no number meeting the condition, firing with every number meeting it, or pending with
 * every number meeting it before the duration is up. Such a run leaves exactly what onPoint point
 * by point would — the latest point time and the arrival — so it is applied here at once. Answers
 * false (nothing done) when the run has to be taken point by point.
 */
export function quietRun(rule: CompiledRule, s: SeriesState, run: NumberRun, arrivedAtMs: number): boolean {
  if (!isThreshold(rule) || run.count === 0) return false;
  const steady =
    s.state === 'ok'
      ? !rule.mayMeetWithin(run.min, run.max)
      : rule.meetsAllWithin(run.min, run.max) && (s.state === 'firing' || run.latestMs < s.since + rule.forMs);
  if (!steady) return false;
  if (s.lastPointAt === null || run.latestMs > s.lastPointAt) {
    s.lastPointAt = run.latestMs;
    s.lastSeenAt = s.lastSeenAt === null ? arrivedAtMs : Math.max(s.lastSeenAt, arrivedAtMs);
  }
  return true;
}
