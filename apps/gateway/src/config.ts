import { readInt, readOptionalString, readSharedConfig, readUrl, type SharedConfig } from '#common';

export interface GatewayConfig extends SharedConfig {
  port: number;
  host: string;
  /** What `/api/config` and pairing hand out; defaults to this machine. */
  publicUrl: string;
  /** Whether PUBLIC_URL was set (else /setup uses the address the device reached). */
  publicUrlConfigured: boolean;
  /** The realtime WebSocket base devices and browsers connect to. */
  publicWsUrl: string;
  /** How long a verified API key is trusted without asking the pairing app again. */
  keyCacheTtlMs: number;
  /** Queries and exports one API key may have in flight at once (each holds a database cursor). */
  queryConcurrencyPerKey: number;
  /** A query or export answer whose HTTP client takes no data for this long is cut off. */
  streamStallTimeoutMs: number;
}

function readConfig(env = process.env): GatewayConfig {
  const port = readInt(env, 'GATEWAY_PORT', 8080, 0, 65535);
  const publicUrl = readUrl(env, 'PUBLIC_URL', `http://127.0.0.1:${port}`, ['http:', 'https:']).replace(/\/+$/, '');
  const realtimePort = readInt(env, 'REALTIME_PORT', 8081, 0, 65535);
  const base = new URL(publicUrl);
  const derivedWsUrl = `${base.protocol === 'https:' ? 'wss' : 'ws'}://${base.hostname}:${realtimePort}`;
  return {
    ...readSharedConfig(env),
    port,
    host: readOptionalString(env, 'GATEWAY_HOST') ?? '0.0.0.0',
    publicUrl,
    publicUrlConfigured: Boolean(env.PUBLIC_URL),
    publicWsUrl: readUrl(env, 'PUBLIC_WS_URL', derivedWsUrl, ['ws:', 'wss:']).replace(/\/+$/, ''),
    keyCacheTtlMs: readInt(env, 'PLEXUS_KEY_CACHE_TTL_MS', 30_000, 0, 3_600_000),
    queryConcurrencyPerKey: readInt(env, 'PLEXUS_QUERY_CONCURRENCY_PER_KEY', 4, 1, 1000),
    streamStallTimeoutMs: readInt(env, 'PLEXUS_STREAM_ACK_TIMEOUT_MS', 15_000, 1000, 600_000),
  };
}

export const config: GatewayConfig = readConfig();
