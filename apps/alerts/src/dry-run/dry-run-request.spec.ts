import { describe, expect, it } from '@jest/globals';
import { DomainError } from '#common';
import { DEFAULT_RANGE_US, parseDryRunRequest } from './dry-run-request.js';

const NOW_US = Date.UTC(2026, 11, 1, 12) * 1000;
const rule = { name: 'hot', metric: 'temp', condition: { type: 'above', threshold: 30 } };

function refusal(request: unknown): { code: string; message: string; field?: string } {
  try {
    parseDryRunRequest(request, NOW_US);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    const domain = error as DomainError;
    return { code: domain.code, message: domain.message, field: domain.details?.[0]?.field };
  }
  throw new Error('the request was accepted');
}

describe('parseDryRunRequest', () => {
  it('defaults to the last 24 hours', () => {
    expect(parseDryRunRequest({ org_id: 'o', rule }, NOW_US).scope).toEqual({
      kind: 'range',
      fromUs: NOW_US - DEFAULT_RANGE_US,
      toUs: NOW_US,
    });
  });

  it('reads ISO 8601 and Unix seconds (milliseconds from 1e11, as ingest does)', () => {
    expect(parseDryRunRequest({ org_id: 'o', rule, from: '2026-11-30T00:00:00Z', to: 1796083200 }, NOW_US).scope).toEqual({
      kind: 'range',
      fromUs: Date.UTC(2026, 10, 30) * 1000,
      toUs: 1796083200 * 1e6,
    });
    expect(parseDryRunRequest({ org_id: 'o', rule, to: 1796083200500 }, NOW_US).scope).toMatchObject({ toUs: 1796083200500 * 1000 });
    expect(parseDryRunRequest({ org_id: 'o', rule, from: '2026-11-30T23:00:00+02:00' }, NOW_US).scope).toMatchObject({
      fromUs: Date.UTC(2026, 10, 30, 21) * 1000,
      toUs: NOW_US,
    });
  });

  it('defaults from to a day before a given to', () => {
    expect(parseDryRunRequest({ org_id: 'o', rule, to: '2026-06-02T00:00:00Z' }, NOW_US).scope).toMatchObject({
      fromUs: Date.UTC(2026, 5, 1) * 1000,
    });
  });

  it('takes a session without a range', () => {
    expect(parseDryRunRequest({ org_id: 'o', rule, session_id: 'run 7' }, NOW_US)).toEqual({
      orgId: 'o',
      rule,
      scope: { kind: 'session', sessionId: 'run 7' },
    });
  });

  it('accepts a range of exactly 31 days', () => {
    expect(parseDryRunRequest({ org_id: 'o', rule, from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00Z' }, NOW_US).scope.kind).toBe(
      'range',
    );
  });

  it.each([
    ['not an object', 'text', 'request'],
    ['an array', [], 'request'],
    ['null', null, 'request'],
    ['nothing (a body that was not JSON)', undefined, 'request'],
    ['no org', { rule }, 'org_id'],
    ['an org that is a number', { org_id: 7, rule }, 'org_id'],
    ['an org with NUL', { org_id: 'o\u0000', rule }, 'org_id'],
    ['an org with a lone surrogate', { org_id: 'o\ud800', rule }, 'org_id'],
    ['no rule', { org_id: 'o' }, 'rule'],
    ['a rule name of the wrong type', { org_id: 'o', rule: { ...rule, name: 42 } }, 'name'],
    ['a rule name with NUL', { org_id: 'o', rule: { ...rule, name: 'a\u0000b' } }, 'name'],
    ['a metric with a lone surrogate', { org_id: 'o', rule: { ...rule, metric: 'temp\udc00' } }, 'metric'],
    ['a 10,000-character name', { org_id: 'o', rule: { ...rule, name: 'n'.repeat(10_000) } }, 'name'],
    ['a threshold that is a string', { org_id: 'o', rule: { ...rule, condition: { type: 'above', threshold: '30' } } }, 'threshold'],
    ['an unknown condition', { org_id: 'o', rule: { ...rule, condition: { type: 'sideways' } } }, ''],
    ['33 tags', { org_id: 'o', rule: { ...rule, tags: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) } }, 'tags'],
    ['a nested tag value', { org_id: 'o', rule: { ...rule, tags: { a: { b: { c: 1 } } } } }, 'a'],
    ['a field the request does not have', { org_id: 'o', rule, extra: 1 }, ''],
    ['no metric', { org_id: 'o', rule: { name: 'r', condition: { type: 'no_data', seconds: 5 } } }, 'rule.metric'],
    ['low above high', { org_id: 'o', rule: { ...rule, condition: { type: 'outside', low: 5, high: 1 } } }, 'rule.condition'],
    ['an offline rule with a metric', { org_id: 'o', rule: { ...rule, condition: { type: 'offline', seconds: 5 } } }, 'rule.metric'],
    ['a session with a range', { org_id: 'o', rule, session_id: 's', from: '2026-11-30T00:00:00Z' }, 'session_id'],
    ['a session with NUL', { org_id: 'o', rule, session_id: 's\u0000' }, 'session_id'],
    ['from after to', { org_id: 'o', rule, from: '2026-11-30T00:00:01Z', to: '2026-11-30T00:00:00Z' }, 'from'],
    ['from equal to to', { org_id: 'o', rule, from: 1764460800, to: 1764460800 }, 'from'],
    ['a range over 31 days', { org_id: 'o', rule, from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00.000001Z' }, 'to'],
    ['a from that is not a time', { org_id: 'o', rule, from: 'yesterday' }, 'from'],
    ['a negative from', { org_id: 'o', rule, from: -5 }, 'from'],
    ['a from of 1e300', { org_id: 'o', rule, from: 1e300 }, 'from'],
    ['a from past the year 9999', { org_id: 'o', rule, from: '10000-01-01T00:00:00Z' }, 'from'],
    ['a to that is an object', { org_id: 'o', rule, to: {} }, 'to'],
  ])('refuses %s (BAD_REQUEST naming the field)', (_what, request, field) => {
    const refused = refusal(request);
    expect(refused.code).toBe('BAD_REQUEST');
    if (field) expect(refused.field).toBe(field);
  });

  it('refuses offline rules: presence is not stored', () => {
    const refused = refusal({ org_id: 'o', rule: { name: 'gone', source_id: 'rig', condition: { type: 'offline', seconds: 60 } } });
    expect(refused).toMatchObject({ code: 'BAD_REQUEST', field: 'rule.condition' });
    expect(refused.message).toMatch(/offline rules cannot be dry-run: presence is not stored/);
  });
});
