import { describe, expect, it } from '@jest/globals';
import type { BrokerConnection } from '#common';
import { DisabledOrgs } from './disabled-orgs.service.js';

describe('DisabledOrgs', () => {
  const orgs = () => new DisabledOrgs({} as BrokerConnection);

  it('refuses an org for a few seconds after its disable event, and only that org', () => {
    const disabled = orgs();
    disabled.remember('acme', 1_000);
    expect(disabled.justDisabled('acme', 1_000)).toBe(true);
    expect(disabled.justDisabled('acme', 5_999)).toBe(true);
    expect(disabled.justDisabled('default', 1_000)).toBe(false);
  });

  it('forgets it afterwards, so an org enabled again is served, and keeps no stale entries', () => {
    const disabled = orgs();
    disabled.remember('acme', 1_000);
    expect(disabled.justDisabled('acme', 6_000)).toBe(false);
    disabled.remember('other', 7_000);
    expect(disabled.justDisabled('acme', 7_000)).toBe(false);
    expect((disabled as unknown as { disabledAt: Map<string, number> }).disabledAt.size).toBe(1);
  });
});
