import { randomBytes } from 'node:crypto';
import { ConfigError, type Env, readSharedConfig, readVariables, SharedConfig, variablesOf } from '#common';

/** The realtime app's validated config; provided by ConfigModule.forApp(RealtimeConfig, readRealtimeConfig). */
export abstract class RealtimeConfig extends SharedConfig {
  abstract readonly port: number;
  /** Identifies this instance in takeover events. */
  abstract readonly instanceId: string;
  /** The first frame must authenticate within this time. */
  abstract readonly authTimeoutMs: number;
  /** Protocol pings; a socket that misses two is closed. */
  abstract readonly pingIntervalMs: number;
  /** Frames above this get an error; frames above hardMaxFrameBytes close the socket. */
  abstract readonly maxFrameBytes: number;
  abstract readonly hardMaxFrameBytes: number;
  /** Live telemetry waiting for a slow browser; beyond this the oldest is dropped. */
  abstract readonly browserQueueMessages: number;
  /** Bytes written to a socket but not yet sent before we start queueing. */
  abstract readonly browserHighWaterBytes: number;
  /** Bytes a socket's send queue may hold (every message counted); past it the socket closes with 4013. */
  abstract readonly sendQueueBytes: number;
  /** A send queue that makes no progress this long closes the socket with 4013. */
  abstract readonly sendStallMs: number;
  /** Live telemetry older than this (since it was read from the device) is dropped wherever it waits. */
  abstract readonly telemetryMaxAgeMs: number;
  /** Messages per second (and burst) a device or a browser may send. */
  abstract readonly deviceRatePerSecond: number;
  abstract readonly deviceBurst: number;
  abstract readonly browserRatePerSecond: number;
  abstract readonly browserBurst: number;
  /** An instance not heard from this long is dead: its devices go offline everywhere. */
  abstract readonly presenceLeaseMs: number;
  /** How often this instance renews its lease; less than half the lease, so one lost renewal is survived. */
  abstract readonly presenceRenewMs: number;
}

/** Reads and checks the realtime app's variables; throws a ConfigError naming each bad one. Also what main.ts uses before Nest. */
export function readRealtimeConfig(env: Env = process.env): RealtimeConfig {
  const variables = readVariables(variablesOf('realtime'), env);
  return checkLease({
    ...readSharedConfig(env),
    port: variables.REALTIME_PORT,
    instanceId: randomBytes(6).toString('hex'),
    authTimeoutMs: variables.PLEXUS_WS_AUTH_TIMEOUT_MS,
    pingIntervalMs: variables.PLEXUS_WS_PING_INTERVAL_MS,
    maxFrameBytes: 1024 * 1024,
    hardMaxFrameBytes: 4 * 1024 * 1024,
    browserQueueMessages: variables.PLEXUS_WS_BROWSER_QUEUE,
    browserHighWaterBytes: 1024 * 1024,
    sendQueueBytes: variables.PLEXUS_WS_SEND_QUEUE_BYTES,
    sendStallMs: variables.PLEXUS_WS_SEND_STALL_MS,
    telemetryMaxAgeMs: variables.PLEXUS_WS_TELEMETRY_MAX_AGE_MS,
    deviceRatePerSecond: variables.PLEXUS_WS_DEVICE_RATE,
    deviceBurst: variables.PLEXUS_WS_DEVICE_BURST,
    browserRatePerSecond: variables.PLEXUS_WS_BROWSER_RATE,
    browserBurst: variables.PLEXUS_WS_BROWSER_BURST,
    presenceLeaseMs: variables.PLEXUS_PRESENCE_LEASE_MS,
    presenceRenewMs: variables.PLEXUS_PRESENCE_RENEW_MS,
  });
}

function checkLease(config: RealtimeConfig): RealtimeConfig {
  if (config.presenceRenewMs * 2 >= config.presenceLeaseMs) {
    throw new ConfigError(
      `PLEXUS_PRESENCE_RENEW_MS must be less than half of PLEXUS_PRESENCE_LEASE_MS (${config.presenceLeaseMs}), got "${config.presenceRenewMs}"`,
    );
  }
  return config;
}
