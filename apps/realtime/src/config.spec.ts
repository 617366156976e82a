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
      deviceRatePerSecond: 1000,
      deviceBurst: 2000,
      browserRatePerSecond: 50,
      browserBurst: 100,
    });
    expect(config.instanceId).toMatch(/^[0-9a-f]{12}$/);
    expect(readRealtimeConfig({}).instanceId).not.toBe(config.instanceId);
  });

  it('refuses a send queue under 1 MiB by name', () => {
    expect(() => readRealtimeConfig({ PLEXUS_WS_SEND_QUEUE_BYTES: '1000' })).toThrow(
      'PLEXUS_WS_SEND_QUEUE_BYTES must be a whole number from 1048576 to 1073741824, got "1000"',
    );
  });
});
