import { describe, expect, it } from '@jest/globals';
import { preloads, timescaleDecision } from './timescale.js';

describe('timescaleDecision', () => {
  it('uses TimescaleDB only when it is installed and preloaded', () => {
    expect(timescaleDecision({ available: true, preloaded: true })).toEqual({ use: true });
    expect(timescaleDecision({ available: false, preloaded: false })).toEqual({ use: false });
    expect(timescaleDecision({ available: false, preloaded: true })).toEqual({ use: false });
  });

  it('falls back to plain PostgreSQL with a warning naming shared_preload_libraries when installed but not preloaded', () => {
    const decision = timescaleDecision({ available: true, preloaded: false });
    expect(decision.use).toBe(false);
    expect(decision.use === false && decision.warning).toMatch(/shared_preload_libraries/);
  });
});

describe('preloads', () => {
  it.each([
    ['timescaledb', true],
    ["'timescaledb'", true],
    ['pg_stat_statements, timescaledb', true],
    ['$libdir/timescaledb', true],
    ['"TimescaleDB",auto_explain', true],
    ['', false],
    ['pg_stat_statements', false],
    ['timescaledb_toolkit', false],
  ])('%j → %s', (setting, expected) => {
    expect(preloads(setting, 'timescaledb')).toBe(expected);
  });
});
