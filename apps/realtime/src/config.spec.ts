import { describe, expect, it } from '@jest/globals';
import { readRealtimeConfig } from './config.js';

describe('readRealtimeConfig', () => {
  it('has the documented defaults and a fresh instance id per read', () => {
    const config = readRealtimeConfig({});
    expect(config).toMatchObject({
      port: 8081,
      authTimeoutMs: 10_000,
      pingIntervalMs: 20_000,
      maxFrameBytes: 1024 * 1024,
      hardMaxFrameBytes: 4 * 1024 * 1024,
      browserQueueMessages: 1000,
      sendQueueBytes: 4 * 1024 * 1024,
      sendStallMs: 60_000,
      telemetryMaxAgeMs: 1000,
      deviceRatePerSecond: 1000,
      deviceBurst: 2000,
      browserRatePerSecond: 50,
      browserBurst: 100,
      presenceLeaseMs: 6000,
      presenceRenewMs: 2000,
    });
    expect(config.instanceId).toMatch(/^[0-9a-f]{12}$/);
    expect(readRealtimeConfig({}).instanceId).not.toBe(config.instanceId);
  });

  it('refuses a send queue under 1 MiB by name', () => {
    expect(() => readRealtimeConfig({ PLEXUS_WS_SEND_QUEUE_BYTES: '1000' })).toThrow(
      'PLEXUS_WS_SEND_QUEUE_BYTES must be a whole number from 1048576 to 1073741824, got "1000"',
    );
  });

  it('refuses a renewal that is not under half the lease, naming the variable', () => {
    expect(() => readRealtimeConfig({ PLEXUS_PRESENCE_LEASE_MS: '4000', PLEXUS_PRESENCE_RENEW_MS: '2000' })).toThrow(
      'PLEXUS_PRESENCE_RENEW_MS must be less than half of PLEXUS_PRESENCE_LEASE_MS (4000), got "2000"',
    );
    expect(readRealtimeConfig({ PLEXUS_PRESENCE_LEASE_MS: '1000', PLEXUS_PRESENCE_RENEW_MS: '300' })).toMatchObject({
      presenceLeaseMs: 1000,
      presenceRenewMs: 300,
    });
    expect(() => readRealtimeConfig({ PLEXUS_PRESENCE_LEASE_MS: '6s' })).toThrow(/PLEXUS_PRESENCE_LEASE_MS must be a whole number/);
  });
});
