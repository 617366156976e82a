import { type HttpLimits, readHttpLimits, readInt, readOptionalString, readSharedConfig, readUrl, type SharedConfig } from '#common';

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
  /** Request/headers/keep-alive/idle timeouts (PLEXUS_HTTP_*_TIMEOUT_MS) and JSON depth. */
  http: HttpLimits;
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
    http: readHttpLimits(env),
  };
}

export const config: GatewayConfig = readConfig();
