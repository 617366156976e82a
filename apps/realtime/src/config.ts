import { randomBytes } from 'node:crypto';
import { readInt, readSharedConfig, type SharedConfig } from '#common';

export interface RealtimeConfig extends SharedConfig {
  port: number;
  /** Identifies this instance in takeover events. */
  instanceId: string;
  /** The first frame must authenticate within this time. */
  authTimeoutMs: number;
  /** Protocol pings; a socket that misses two is closed. */
  pingIntervalMs: number;
  /** Frames above this get an error; frames above hardMaxFrameBytes close the socket. */
  maxFrameBytes: number;
  hardMaxFrameBytes: number;
  /** Live telemetry waiting for a slow browser; beyond this the oldest is dropped. */
  browserQueueMessages: number;
  /** Bytes written to a socket but not yet sent before we start queueing. */
  browserHighWaterBytes: number;
  /** Bytes a socket's send queue may hold (every message counted); past it the socket closes with 4013. */
  sendQueueBytes: number;
  /** A send queue that makes no progress this long closes the socket with 4013. */
  sendStallMs: number;
  /** Messages per second (and burst) a device or a browser may send. */
  deviceRatePerSecond: number;
  deviceBurst: number;
  browserRatePerSecond: number;
  browserBurst: number;
}

function readConfig(env = process.env): RealtimeConfig {
  return {
    ...readSharedConfig(env),
    port: readInt(env, 'REALTIME_PORT', 8081, 0, 65535),
    instanceId: randomBytes(6).toString('hex'),
    authTimeoutMs: readInt(env, 'PLEXUS_WS_AUTH_TIMEOUT_MS', 10_000, 100, 600_000),
    pingIntervalMs: readInt(env, 'PLEXUS_WS_PING_INTERVAL_MS', 20_000, 100, 600_000),
    maxFrameBytes: 1024 * 1024,
    hardMaxFrameBytes: 4 * 1024 * 1024,
    browserQueueMessages: readInt(env, 'PLEXUS_WS_BROWSER_QUEUE', 1000, 1, 1_000_000),
    browserHighWaterBytes: 1024 * 1024,
    sendQueueBytes: readInt(env, 'PLEXUS_WS_SEND_QUEUE_BYTES', 4 * 1024 * 1024, 1024 * 1024, 1024 * 1024 * 1024),
    sendStallMs: readInt(env, 'PLEXUS_WS_SEND_STALL_MS', 60_000, 1000, 3_600_000),
    deviceRatePerSecond: readInt(env, 'PLEXUS_WS_DEVICE_RATE', 1000, 1, 1_000_000),
    deviceBurst: readInt(env, 'PLEXUS_WS_DEVICE_BURST', 2000, 1, 1_000_000),
    browserRatePerSecond: readInt(env, 'PLEXUS_WS_BROWSER_RATE', 50, 1, 1_000_000),
    browserBurst: readInt(env, 'PLEXUS_WS_BROWSER_BURST', 100, 1, 1_000_000),
  };
}

export const config: RealtimeConfig = readConfig();
