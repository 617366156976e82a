import { describe, expect, it } from '@jest/globals';
import { readAlertsConfig } from './config.js';

describe('readAlertsConfig', () => {
  it('has the documented defaults', () => {
    expect(readAlertsConfig({})).toMatchObject({
      httpPort: 8084,
      partitions: 4,
      leaseMs: 6000,
      renewMs: 2000,
      tickMs: 1000,
      webhookTimeoutMs: 10_000,
      webhookRetryMaxMs: 600_000,
      webhookGiveUpSeconds: 86_400,
    });
    expect(readAlertsConfig({}).alertsSecret).toBeUndefined();
  });

  it('takes partitions that are powers of two up to 64 and refuses the rest, naming the variable', () => {
    for (const n of [1, 2, 4, 8, 16, 32, 64]) expect(readAlertsConfig({ PLEXUS_ALERTS_PARTITIONS: String(n) }).partitions).toBe(n);
    for (const n of ['3', '6', '0', '65', '128', '4.0x', '\u0000']) {
      expect(() => readAlertsConfig({ PLEXUS_ALERTS_PARTITIONS: n })).toThrow(/PLEXUS_ALERTS_PARTITIONS must be/);
    }
  });

  it('refuses a renewal slower than half the lease, and a secret too short (never echoing it)', () => {
    expect(() => readAlertsConfig({ PLEXUS_ALERTS_LEASE_MS: '4000', PLEXUS_ALERTS_RENEW_MS: '2500' })).toThrow(
      /PLEXUS_ALERTS_RENEW_MS must be at most half/,
    );
    expect(() => readAlertsConfig({ PLEXUS_ALERTS_SECRET: 'short-secret-xyz' })).toThrow(/PLEXUS_ALERTS_SECRET/);
    expect(() => readAlertsConfig({ PLEXUS_ALERTS_SECRET: 'short-secret-xyz' })).not.toThrow(/short-secret-xyz/);
  });
});
