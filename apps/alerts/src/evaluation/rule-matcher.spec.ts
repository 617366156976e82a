import { describe, expect, it } from '@jest/globals';
import type { AlertCondition } from '#common';
import { compileRule, RuleIndex, type RuleShape } from './rule-matcher.js';

let ids = 0;
function rule(fields: Partial<RuleShape> & { condition: AlertCondition }): RuleShape {
  return { id: `rule_${++ids}`, source_id: null, tags: null, metric: 'temp', for_seconds: 0, ...fields };
}

describe('compileRule: meets', () => {
  it.each([
    ['above', { type: 'above', threshold: 10 }, [10.000001, 1e300], [10, 9, -1e300]],
    ['below', { type: 'below', threshold: 10 }, [9.999999, -5], [10, 11]],
    ['outside', { type: 'outside', low: -1, high: 1 }, [-1.5, 1.0001], [-1, 0, 1]],
    ['inside', { type: 'inside', low: -1, high: 1 }, [-1, 0, 1], [-1.0001, 1.0001]],
    ['inside a single value', { type: 'inside', low: 3, high: 3 }, [3], [2.999, 3.001]],
    ['no_data (never by value)', { type: 'no_data', seconds: 5 }, [], [0, 1e9]],
    ['offline (never by value)', { type: 'offline', seconds: 5 }, [], [0]],
  ] as [string, AlertCondition, number[], number[]][])('%s', (_what, condition, meeting, notMeeting) => {
    const compiled = compileRule(rule({ condition, metric: condition.type === 'offline' ? null : 'temp' }));
    for (const value of meeting) expect([value, compiled.meets(value)]).toEqual([value, true]);
    for (const value of notMeeting) expect([value, compiled.meets(value)]).toEqual([value, false]);
  });

  it('turns seconds into milliseconds', () => {
    expect(compileRule(rule({ condition: { type: 'no_data', seconds: 30 }, for_seconds: 5 }))).toMatchObject({
      windowMs: 30_000,
      forMs: 5000,
    });
    expect(compileRule(rule({ condition: { type: 'above', threshold: 1 } }))).toMatchObject({ windowMs: 0, forMs: 0 });
  });
});

describe('compileRule: watches', () => {
  const above = { type: 'above', threshold: 1 } as const;

  it('one source and metric', () => {
    const compiled = compileRule(rule({ source_id: 'rig-1', condition: above }));
    expect(compiled.watches('rig-1', 'temp', null)).toBe(true);
    expect(compiled.watches('rig-1', 'temp', { any: 'tag' })).toBe(true);
    expect(compiled.watches('rig-2', 'temp', null)).toBe(false);
    expect(compiled.watches('rig-1', 'humidity', null)).toBe(false);
  });

  it('every source when source_id is null', () => {
    const compiled = compileRule(rule({ condition: above }));
    expect(compiled.watches('rig-1', 'temp', null)).toBe(true);
    expect(compiled.watches('anything', 'temp', null)).toBe(true);
    expect(compiled.watches('anything', 'Temp', null)).toBe(false);
  });

  it('tags: every key with exactly the value (type included), extra point tags allowed', () => {
    const compiled = compileRule(rule({ condition: above, tags: { site: 'north', rack: 3, live: true } }));
    expect(compiled.watches('s', 'temp', { site: 'north', rack: 3, live: true })).toBe(true);
    expect(compiled.watches('s', 'temp', { site: 'north', rack: 3, live: true, extra: 'x' })).toBe(true);
    expect(compiled.watches('s', 'temp', { site: 'north', rack: '3', live: true })).toBe(false);
    expect(compiled.watches('s', 'temp', { site: 'north', rack: 3, live: 'true' })).toBe(false);
    expect(compiled.watches('s', 'temp', { site: 'south', rack: 3, live: true })).toBe(false);
    expect(compiled.watches('s', 'temp', { site: 'north', rack: 3 })).toBe(false);
    expect(compiled.watches('s', 'temp', {})).toBe(false);
    expect(compiled.watches('s', 'temp', null)).toBe(false);
  });

  it('empty tags match every series', () => {
    expect(compileRule(rule({ condition: above, tags: {} })).watches('s', 'temp', null)).toBe(true);
  });

  it("tags are the point's own: keys of Object.prototype do not match", () => {
    const compiled = compileRule(rule({ condition: above, tags: JSON.parse('{"constructor":"x","__proto__":"y"}') }));
    expect(compiled.watches('s', 'temp', {})).toBe(false);
    expect(compiled.watches('s', 'temp', JSON.parse('{"constructor":"x","__proto__":"y"}'))).toBe(true);
    expect(compileRule(rule({ condition: above, tags: JSON.parse('{"toString":"x"}') })).watches('s', 'temp', {})).toBe(false);
  });

  it('offline rules watch sources, whatever the metric', () => {
    const compiled = compileRule(rule({ source_id: 'rig-1', metric: null, condition: { type: 'offline', seconds: 60 } }));
    expect(compiled.watches('rig-1', null, null)).toBe(true);
    expect(compiled.watches('rig-1', 'temp', { a: 1 })).toBe(true);
    expect(compiled.watches('rig-2', null, null)).toBe(false);
    expect(compileRule(rule({ metric: null, condition: { type: 'offline', seconds: 60 } })).watches('any', null, null)).toBe(true);
  });
});

describe('RuleIndex', () => {
  const compiled = {
    tempAll: compileRule(rule({ metric: 'temp', condition: { type: 'above', threshold: 1 } })),
    tempRig1: compileRule(rule({ metric: 'temp', source_id: 'rig-1', condition: { type: 'below', threshold: 1 } })),
    humRig2: compileRule(rule({ metric: 'hum', source_id: 'rig-2', condition: { type: 'above', threshold: 1 } })),
    quietTemp: compileRule(rule({ metric: 'temp', condition: { type: 'no_data', seconds: 10 } })),
    offlineAll: compileRule(rule({ metric: null, condition: { type: 'offline', seconds: 10 } })),
    offlineRig1: compileRule(rule({ metric: null, source_id: 'rig-1', condition: { type: 'offline', seconds: 10 } })),
  };
  const index = new RuleIndex(Object.values(compiled));
  const ids = (list: readonly { id: string }[]) => list.map((r) => r.id).sort();

  it('finds the rules of a series by source and metric', () => {
    expect(ids(index.forSeries('rig-1', 'temp'))).toEqual(ids([compiled.tempAll, compiled.tempRig1, compiled.quietTemp]));
    expect(ids(index.forSeries('rig-9', 'temp'))).toEqual(ids([compiled.tempAll, compiled.quietTemp]));
    expect(ids(index.forSeries('rig-2', 'hum'))).toEqual([compiled.humRig2.id]);
    expect(index.forSeries('rig-1', 'hum')).toEqual([]);
    expect(index.forSeries('rig-1', 'pressure')).toEqual([]);
  });

  it('answers the same list for the same series (merged once)', () => {
    expect(index.forSeries('rig-1', 'temp')).toBe(index.forSeries('rig-1', 'temp'));
  });

  it('agrees with watches on every rule', () => {
    for (const [source, metric] of [
      ['rig-1', 'temp'],
      ['rig-2', 'temp'],
      ['rig-2', 'hum'],
      ['rig-3', 'hum'],
    ]) {
      const expected = Object.values(compiled).filter((r) => r.type !== 'offline' && r.watches(source, metric, null));
      expect(ids(index.forSeries(source, metric))).toEqual(ids(expected));
    }
  });

  it('keeps offline and no_data rules apart', () => {
    expect(ids(index.offlineRules())).toEqual(ids([compiled.offlineAll, compiled.offlineRig1]));
    expect(ids(index.offlineRulesFor('rig-1'))).toEqual(ids([compiled.offlineAll, compiled.offlineRig1]));
    expect(ids(index.offlineRulesFor('rig-2'))).toEqual([compiled.offlineAll.id]);
    expect(ids(index.noDataRules())).toEqual([compiled.quietTemp.id]);
  });

  it('an empty index matches nothing', () => {
    const empty = new RuleIndex([]);
    expect(empty.forSeries('a', 'b')).toEqual([]);
    expect(empty.offlineRules()).toEqual([]);
    expect(empty.offlineRulesFor('a')).toEqual([]);
    expect(empty.noDataRules()).toEqual([]);
  });
});
