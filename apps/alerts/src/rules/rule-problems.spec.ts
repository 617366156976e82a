import { describe, expect, it } from '@jest/globals';
import type { RuleInput } from '#common';
import { ruleProblem } from './rule-problems.js';

const above: RuleInput = { name: 'hot', metric: 'temp', condition: { type: 'above', threshold: 30 } };

describe('ruleProblem', () => {
  it('accepts sound rules of every condition', () => {
    expect(ruleProblem(above)).toBeUndefined();
    expect(
      ruleProblem({ name: 'cold', metric: 'temp', condition: { type: 'below', threshold: -5 }, tags: { room: 'lab' } }),
    ).toBeUndefined();
    expect(ruleProblem({ name: 'band', metric: 'temp', condition: { type: 'outside', low: 1, high: 1 } })).toBeUndefined();
    expect(ruleProblem({ name: 'band', metric: 'temp', condition: { type: 'inside', low: -1, high: 1 } })).toBeUndefined();
    expect(ruleProblem({ name: 'quiet', metric: 'temp', condition: { type: 'no_data', seconds: 60 } })).toBeUndefined();
    expect(ruleProblem({ name: 'gone', condition: { type: 'offline', seconds: 60 }, source_id: 'pi-1' })).toBeUndefined();
    expect(ruleProblem({ name: 'gone', condition: { type: 'offline', seconds: 60 }, metric: null, tags: null })).toBeUndefined();
    expect(ruleProblem({ ...above, silenced_until: '2026-12-01T18:00:00Z' })).toBeUndefined();
  });

  it('requires a metric for every condition but offline', () => {
    for (const condition of [
      { type: 'above', threshold: 1 },
      { type: 'below', threshold: 1 },
      { type: 'outside', low: 0, high: 1 },
      { type: 'inside', low: 0, high: 1 },
      { type: 'no_data', seconds: 5 },
    ] as RuleInput['condition'][]) {
      expect(ruleProblem({ name: 'x', condition })).toMatchObject({ field: 'metric' });
      expect(ruleProblem({ name: 'x', condition, metric: null })).toMatchObject({ field: 'metric' });
    }
  });

  it('refuses a metric and tags on an offline rule', () => {
    const offline = { name: 'gone', condition: { type: 'offline', seconds: 60 } } as const;
    expect(ruleProblem({ ...offline, metric: 'temp' })).toMatchObject({ field: 'metric' });
    expect(ruleProblem({ ...offline, tags: { room: 'lab' } })).toMatchObject({ field: 'tags' });
    expect(ruleProblem({ ...offline, tags: {} })).toMatchObject({ field: 'tags' });
  });

  it('refuses a range with low > high', () => {
    expect(ruleProblem({ name: 'x', metric: 'm', condition: { type: 'outside', low: 2, high: 1 } })).toMatchObject({ field: 'condition' });
    expect(ruleProblem({ name: 'x', metric: 'm', condition: { type: 'inside', low: 0.5, high: 0.25 } })).toMatchObject({
      field: 'condition',
    });
  });

  it('refuses a silenced_until that has the form of a time but is none', () => {
    expect(ruleProblem({ ...above, silenced_until: '2026-13-45T99:99Z' })).toMatchObject({ field: 'silenced_until' });
  });
});

describe('ruleProblem: the cases of the engine', () => {
  const base: RuleInput = { name: 'r', metric: 'temp', condition: { type: 'above', threshold: 1 } };

  it.each([
    ['a threshold rule with a metric', base],
    ['a range with low = high', { ...base, condition: { type: 'inside', low: 2, high: 2 } }],
    ['a no_data rule with tags', { ...base, tags: { a: 'b' }, condition: { type: 'no_data', seconds: 5 } }],
    ['an offline rule on a source', { name: 'r', source_id: 'rig', condition: { type: 'offline', seconds: 5 } }],
    ['an offline rule with null metric and tags', { name: 'r', metric: null, tags: null, condition: { type: 'offline', seconds: 5 } }],
  ] as [string, RuleInput][])('accepts %s', (_what, input) => {
    expect(ruleProblem(input)).toBeUndefined();
  });

  it.each([
    ['no metric', { name: 'r', condition: { type: 'above', threshold: 1 } }, 'metric'],
    ['a null metric', { name: 'r', metric: null, condition: { type: 'no_data', seconds: 1 } }, 'metric'],
    ['an offline rule with a metric', { name: 'r', metric: 'temp', condition: { type: 'offline', seconds: 5 } }, 'metric'],
    ['an offline rule with tags', { name: 'r', tags: { a: 'b' }, condition: { type: 'offline', seconds: 5 } }, 'tags'],
    ['an offline rule with empty tags', { name: 'r', tags: {}, condition: { type: 'offline', seconds: 5 } }, 'tags'],
    ['low above high (outside)', { ...base, condition: { type: 'outside', low: 2, high: 1 } }, 'condition'],
    ['low above high (inside)', { ...base, condition: { type: 'inside', low: 0.5, high: -0.5 } }, 'condition'],
  ] as [string, RuleInput, string][])('refuses %s, naming the field', (_what, input, field) => {
    expect(ruleProblem(input)?.field).toBe(field);
    expect(ruleProblem(input)?.problem).toContain(`"${field}"`);
  });
});
