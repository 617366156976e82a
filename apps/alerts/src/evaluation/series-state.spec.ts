import { describe, expect, it } from '@jest/globals';
import type { AlertCondition } from '#common';
import { compileRule, type CompiledRule } from './rule-matcher.js';
import { seededRandom } from '../../../../test/support/hostile.js';
import {
  isResolved,
  newSeriesState,
  numberRun,
  onPoint,
  onPresence,
  onTick,
  onTickBefore,
  quietRun,
  type SeriesState,
  type Transition,
} from './series-state.js';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const s = (seconds: number) => T0 + seconds * 1000;

function ruleOf(condition: AlertCondition, forSeconds = 0): CompiledRule {
  return compileRule({
    id: 'rule_x',
    source_id: null,
    tags: null,
    metric: condition.type === 'offline' ? null : 'temp',
    condition,
    for_seconds: forSeconds,
  });
}

/** Feeds points [seconds, value] (arriving at their own time) and answers the transitions as [seconds, from, to, value]. */
function feed(rule: CompiledRule, state: SeriesState, points: [number, unknown][]): [number, string, string, number | null][] {
  const made: [number, string, string, number | null][] = [];
  for (const [at, value] of points) {
    const t = onPoint(rule, state, s(at), value, s(at));
    if (t) made.push([(t.at - T0) / 1000, t.from, t.to, t.value]);
  }
  return made;
}

/** Ticks until nothing more happens at `seconds`. */
function tick(rule: CompiledRule, state: SeriesState, seconds: number): [number, string, string][] {
  const made: [number, string, string][] = [];
  for (let t: Transition | undefined; (t = onTick(rule, state, s(seconds)));) made.push([(t.at - T0) / 1000, t.from, t.to]);
  return made;
}

describe('threshold rules, for_seconds 0', () => {
  it.each([
    [
      'above',
      { type: 'above', threshold: 10 },
      [9, 10, 10.5, 11, 10, 3],
      [
        [2, 'ok', 'firing', 10.5],
        [4, 'firing', 'ok', 10],
      ],
    ],
    [
      'below',
      { type: 'below', threshold: 0 },
      [1, 0, -0.5, -3, 0],
      [
        [2, 'ok', 'firing', -0.5],
        [4, 'firing', 'ok', 0],
      ],
    ],
    [
      'outside',
      { type: 'outside', low: 10, high: 20 },
      [10, 20, 20.1, 15, 9.9, 10],
      [
        [2, 'ok', 'firing', 20.1],
        [3, 'firing', 'ok', 15],
        [4, 'ok', 'firing', 9.9],
        [5, 'firing', 'ok', 10],
      ],
    ],
    [
      'inside',
      { type: 'inside', low: 10, high: 20 },
      [9.9, 10, 20, 20.1, 20, 25],
      [
        [1, 'ok', 'firing', 10],
        [3, 'firing', 'ok', 20.1],
        [4, 'ok', 'firing', 20],
        [5, 'firing', 'ok', 25],
      ],
    ],
  ] as [string, AlertCondition, number[], unknown[]][])(
    '%s: fires on the first point that meets it, resolves on the first that does not (boundaries included)',
    (_what, condition, values, expected) => {
      const rule = ruleOf(condition);
      const state = newSeriesState(T0);
      expect(
        feed(
          rule,
          state,
          values.map((v, i) => [i, v]),
        ),
      ).toEqual(expected);
    },
  );

  it('ignores values that are not numbers, without moving the series on', () => {
    const rule = ruleOf({ type: 'above', threshold: 10 });
    const state = newSeriesState(T0);
    expect(
      feed(rule, state, [
        [1, '100'],
        [2, true],
        [3, { v: 100 }],
        [4, [100]],
        [5, null],
        [6, Number.NaN],
        [7, Infinity],
      ]),
    ).toEqual([]);
    expect(state).toEqual(newSeriesState(T0));
    expect(
      feed(rule, state, [
        [8, 11],
        [9, 'low'],
        [10, 5],
      ]),
    ).toEqual([
      [8, 'ok', 'firing', 11],
      [10, 'firing', 'ok', 5],
    ]);
  });

  it('keeps the crossing value and time in the state', () => {
    const rule = ruleOf({ type: 'above', threshold: 10 });
    const state = newSeriesState(T0);
    feed(rule, state, [
      [1, 5],
      [2, 12],
      [3, 15],
    ]);
    expect(state).toMatchObject({ state: 'firing', since: s(2), value: 12, lastPointAt: s(3), lastSeenAt: s(3), alertId: null });
  });
});

describe('threshold rules, for_seconds > 0', () => {
  const rule = ruleOf({ type: 'above', threshold: 10 }, 30);

  it('pending at the first point that meets it, firing at the first point at or after since + for that still meets it', () => {
    const state = newSeriesState(T0);
    expect(
      feed(rule, state, [
        [0, 5],
        [10, 11],
        [20, 12],
        [39.999, 13],
        [40, 14],
        [50, 15],
      ]),
    ).toEqual([
      [10, 'ok', 'pending', 11],
      [40, 'pending', 'firing', 14],
    ]);
    expect(state).toMatchObject({ state: 'firing', since: s(40), value: 14 });
  });

  it('fires at a later point when none falls exactly on the deadline', () => {
    const state = newSeriesState(T0);
    expect(
      feed(rule, state, [
        [0, 11],
        [25, 11],
        [95, 11],
      ]),
    ).toEqual([
      [0, 'ok', 'pending', 11],
      [95, 'pending', 'firing', 11],
    ]);
  });

  it('a point that does not meet it cancels the pending (and the wait starts over)', () => {
    const state = newSeriesState(T0);
    expect(
      feed(rule, state, [
        [0, 11],
        [29, 10],
        [30, 11],
        [45, 11],
        [59, 11],
        [60, 12],
      ]),
    ).toEqual([
      [0, 'ok', 'pending', 11],
      [29, 'pending', 'ok', 10],
      [30, 'ok', 'pending', 11],
      [60, 'pending', 'firing', 12],
    ]);
  });

  it('resolves a firing series on a point that does not meet it', () => {
    const state = newSeriesState(T0);
    const made = feed(rule, state, [
      [0, 11],
      [30, 11],
      [31, 2],
    ]);
    expect(made[2]).toEqual([31, 'firing', 'ok', 2]);
    expect(isResolved({ from: 'firing', to: 'ok', at: 0, value: 2 })).toBe(true);
    expect(isResolved({ from: 'pending', to: 'ok', at: 0, value: 2 })).toBe(false);
  });

  it('ticks change nothing on threshold rules (only points move them)', () => {
    const state = newSeriesState(T0);
    feed(rule, state, [[0, 11]]);
    expect(tick(rule, state, 1000)).toEqual([]);
    expect(state.state).toBe('pending');
  });
});

describe('replay and order', () => {
  const sequence: [number, unknown][] = [
    [0, 5],
    [1, 11],
    [2, 12],
    [3, 13],
    [4, 5],
    [5, 20],
    [6, 21],
  ];

  it.each([
    ['for_seconds 0', ruleOf({ type: 'above', threshold: 10 })],
    ['for_seconds 2', ruleOf({ type: 'above', threshold: 10 }, 2)],
    ['no_data', ruleOf({ type: 'no_data', seconds: 1 })],
  ])('%s: the same sequence again (a redelivery) makes no transition and leaves the state as it was', (_what, rule) => {
    const state = newSeriesState(T0);
    for (const [at] of sequence) tick(rule, state, at);
    feed(rule, state, sequence);
    const after = { ...state };
    expect(feed(rule, state, sequence)).toEqual([]);
    expect(feed(rule, state, sequence.slice(2, 4))).toEqual([]);
    expect(state).toEqual(after);
  });

  it('ignores a point older than, or as old as, the last one evaluated', () => {
    const rule = ruleOf({ type: 'above', threshold: 10 });
    const state = newSeriesState(T0);
    expect(feed(rule, state, [[10, 11]])).toEqual([[10, 'ok', 'firing', 11]]);
    expect(
      feed(rule, state, [
        [9, 1],
        [10, 1],
        [5, 0],
      ]),
    ).toEqual([]);
    expect(state).toMatchObject({ state: 'firing', lastPointAt: s(10) });
    expect(feed(rule, state, [[10.001, 1]])).toEqual([[10.001, 'firing', 'ok', 1]]);
  });
});

describe('no_data rules', () => {
  it('fires once no point arrived for `seconds` (at that moment) and resolves on the next point', () => {
    const rule = ruleOf({ type: 'no_data', seconds: 60 });
    const state = newSeriesState(T0);
    feed(rule, state, [
      [0, 'any value'],
      [30, 1],
    ]);
    expect(tick(rule, state, 89.999)).toEqual([]);
    expect(tick(rule, state, 90)).toEqual([[90, 'ok', 'firing']]);
    expect(tick(rule, state, 500)).toEqual([]);
    expect(feed(rule, state, [[501, { any: 'thing' }]])).toEqual([[501, 'firing', 'ok', null]]);
    expect(state).toMatchObject({ state: 'ok', lastSeenAt: s(501), value: null });
    // The silence is counted from the new point.
    expect(tick(rule, state, 560)).toEqual([]);
    expect(tick(rule, state, 561)).toEqual([[561, 'ok', 'firing']]);
  });

  it('with for_seconds: pending when the silence reaches `seconds`, firing for_seconds later; a point in between cancels it', () => {
    const rule = ruleOf({ type: 'no_data', seconds: 60 }, 30);
    const state = newSeriesState(T0);
    feed(rule, state, [[0, 1]]);
    expect(tick(rule, state, 60)).toEqual([[60, 'ok', 'pending']]);
    expect(tick(rule, state, 89)).toEqual([]);
    expect(feed(rule, state, [[89.5, 1]])).toEqual([[89.5, 'pending', 'ok', null]]);
    expect(tick(rule, state, 149.5)).toEqual([[149.5, 'ok', 'pending']]);
    expect(tick(rule, state, 179.5)).toEqual([[179.5, 'pending', 'firing']]);
  });

  it('a tick long after the silence makes both steps, each at its own time', () => {
    const rule = ruleOf({ type: 'no_data', seconds: 60 }, 30);
    const state = newSeriesState(T0);
    feed(rule, state, [[0, 1]]);
    expect(tick(rule, state, 10_000)).toEqual([
      [60, 'ok', 'pending'],
      [90, 'pending', 'firing'],
    ]);
  });

  it('counts the silence on the wall clock of arrival, not the point time', () => {
    const rule = ruleOf({ type: 'no_data', seconds: 60 });
    const state = newSeriesState(T0);
    // A device whose clock is an hour behind: its points still count as data when they arrive.
    expect(onPoint(rule, state, s(-3600), 1, s(0))).toBeUndefined();
    expect(tick(rule, state, 59)).toEqual([]);
    expect(tick(rule, state, 60)).toEqual([[60, 'ok', 'firing']]);
  });

  it('does nothing before the series has had a point', () => {
    const rule = ruleOf({ type: 'no_data', seconds: 1 });
    expect(tick(rule, newSeriesState(T0), 1_000_000)).toEqual([]);
  });

  it('onTickBefore: a gap of exactly `seconds` before a point does not fire, a longer one does', () => {
    const rule = ruleOf({ type: 'no_data', seconds: 10 });
    const state = newSeriesState(T0);
    feed(rule, state, [[0, 1]]);
    expect(onTickBefore(rule, state, s(10))).toBeUndefined();
    feed(rule, state, [[10, 1]]);
    expect(onTickBefore(rule, state, s(20.001))).toEqual({ from: 'ok', to: 'firing', at: s(20), value: null });
  });

  it('ignores presence', () => {
    const rule = ruleOf({ type: 'no_data', seconds: 1 });
    const state = newSeriesState(T0);
    expect(onPresence(rule, state, false, s(1))).toBeUndefined();
    expect(state).toEqual(newSeriesState(T0));
  });
});

describe('offline rules', () => {
  function presence(rule: CompiledRule, state: SeriesState, online: boolean, seconds: number) {
    const t = onPresence(rule, state, online, s(seconds));
    return t && [(t.at - T0) / 1000, t.from, t.to];
  }

  it('fires when the source has been offline for `seconds`, resolves when it comes back', () => {
    const rule = ruleOf({ type: 'offline', seconds: 120 });
    const state = newSeriesState(T0);
    expect(presence(rule, state, true, 0)).toBeUndefined();
    expect(presence(rule, state, false, 10)).toBeUndefined();
    expect(tick(rule, state, 129)).toEqual([]);
    expect(tick(rule, state, 130)).toEqual([[130, 'ok', 'firing']]);
    expect(presence(rule, state, true, 200)).toEqual([200, 'firing', 'ok']);
    expect(state).toMatchObject({ state: 'ok', lastSeenAt: null });
    expect(tick(rule, state, 10_000)).toEqual([]);
  });

  it('back online before `seconds` have passed: nothing happens, and the next absence counts from its own start', () => {
    const rule = ruleOf({ type: 'offline', seconds: 120 });
    const state = newSeriesState(T0);
    presence(rule, state, false, 0);
    expect(tick(rule, state, 119)).toEqual([]);
    expect(presence(rule, state, true, 119.5)).toBeUndefined();
    expect(tick(rule, state, 121)).toEqual([]);
    presence(rule, state, false, 200);
    expect(tick(rule, state, 319)).toEqual([]);
    expect(tick(rule, state, 320)).toEqual([[320, 'ok', 'firing']]);
  });

  it('with for_seconds: pending after `seconds`, firing for_seconds later, cancelled by coming online', () => {
    const rule = ruleOf({ type: 'offline', seconds: 60 }, 60);
    const state = newSeriesState(T0);
    presence(rule, state, false, 0);
    expect(tick(rule, state, 60)).toEqual([[60, 'ok', 'pending']]);
    expect(presence(rule, state, true, 100)).toEqual([100, 'pending', 'ok']);
    presence(rule, state, false, 200);
    expect(tick(rule, state, 400)).toEqual([
      [260, 'ok', 'pending'],
      [320, 'pending', 'firing'],
    ]);
  });

  it('a repeated offline keeps the first time; an older presence change is ignored', () => {
    const rule = ruleOf({ type: 'offline', seconds: 60 });
    const state = newSeriesState(T0);
    presence(rule, state, false, 0);
    presence(rule, state, false, 50);
    expect(tick(rule, state, 60)).toEqual([[60, 'ok', 'firing']]);
    expect(presence(rule, state, true, 40)).toBeUndefined();
    expect(state.state).toBe('firing');
    expect(presence(rule, state, true, 70)).toEqual([70, 'firing', 'ok']);
    expect(presence(rule, state, true, 70)).toBeUndefined();
  });

  it('ignores points', () => {
    const rule = ruleOf({ type: 'offline', seconds: 60 });
    const state = newSeriesState(T0);
    expect(onPoint(rule, state, s(1), 1, s(1))).toBeUndefined();
    expect(state).toEqual(newSeriesState(T0));
  });
});

describe('quietRun: a run that makes no transition, applied at once', () => {
  const conditions: AlertCondition[] = [
    { type: 'above', threshold: 50 },
    { type: 'below', threshold: 50 },
    { type: 'outside', low: 40, high: 60 },
    { type: 'inside', low: 40, high: 60 },
    { type: 'inside', low: 50, high: 50 },
  ];

  it('leaves exactly the state point-by-point evaluation leaves, and is taken only when that makes no transition', () => {
    const random = seededRandom(13);
    let quiet = 0;
    for (let trial = 0; trial < 4000; trial++) {
      const rule = ruleOf(conditions[trial % conditions.length], trial % 3);
      const state = (['ok', 'ok', 'pending', 'firing'] as const)[Math.floor(random() * 4)];
      const start: SeriesState = {
        ...newSeriesState(s(0)),
        state,
        since: state === 'ok' ? s(0) : s(Math.floor(random() * 10)),
        lastPointAt: random() < 0.5 ? null : s(5),
        lastSeenAt: random() < 0.5 ? null : s(1),
      };
      const length = 1 + Math.floor(random() * 6);
      const timesUs = Float64Array.from({ length }, () => s(Math.floor(random() * 12)) * 1000);
      // Mostly near the lines, sometimes not a number (NaN stands for a JSON value, as in a feed message).
      const nums = Float64Array.from({ length }, () => (random() < 0.15 ? NaN : 30 + Math.floor(random() * 41)));
      const arrived = s(20);
      const byPoint = { ...start };
      const transitions = [];
      for (let i = 0; i < length; i++) {
        const transition = onPoint(rule, byPoint, timesUs[i] / 1000, Number.isNaN(nums[i]) ? null : nums[i], arrived);
        if (transition) transitions.push(transition);
      }
      const atOnce = { ...start };
      if (quietRun(rule, atOnce, numberRun(timesUs, nums), arrived)) {
        quiet++;
        expect(transitions).toEqual([]);
        expect(atOnce).toEqual(byPoint);
      } else {
        expect(atOnce).toEqual(start);
      }
    }
    // Both ways are exercised.
    expect(quiet).toBeGreaterThan(500);
    expect(quiet).toBeLessThan(3500);
  });

  it('is never taken by a pending or firing rule a number of the run leaves, by no_data or offline rules, or for a run without numbers', () => {
    const run = numberRun([s(1) * 1000], [10]);
    const pending = { ...newSeriesState(s(0)), state: 'pending' as const };
    expect(quietRun(ruleOf({ type: 'above', threshold: 50 }), pending, run, s(2))).toBe(false);
    expect(quietRun(ruleOf({ type: 'above', threshold: 50 }), { ...pending, state: 'firing' }, run, s(2))).toBe(false);
    // Pending, every number meets, but the duration is up at the run's last point: it fires there.
    expect(quietRun(ruleOf({ type: 'below', threshold: 50 }, 1), pending, run, s(2))).toBe(false);
    expect(quietRun(ruleOf({ type: 'below', threshold: 50 }, 2), { ...pending }, run, s(2))).toBe(true);
    expect(quietRun(ruleOf({ type: 'no_data', seconds: 5 }), newSeriesState(s(0)), run, s(2))).toBe(false);
    expect(quietRun(ruleOf({ type: 'offline', seconds: 5 }), newSeriesState(s(0)), run, s(2))).toBe(false);
    expect(quietRun(ruleOf({ type: 'above', threshold: 50 }), newSeriesState(s(0)), numberRun([s(1) * 1000], [NaN]), s(2))).toBe(false);
  });
});
