import { isIP } from 'node:net';
import {
  ConfigError,
  type HttpLimits,
  readHttpLimits,
  readInt,
  readOptionalString,
  readSharedConfig,
  readUrl,
  type SharedConfig,
} from '#common';

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
  /** Proxies (IPs or CIDRs) whose X-Forwarded-For is believed; none: the socket's address is the client's. */
  trustedProxies: string[];
  /** Pairing guess limits: wrong codes per client address per window, and per minute across all addresses. */
  pairingLimits: PairingLimits;
  /** Queries and exports one API key may have in flight at once (each holds a database cursor). */
  queryConcurrencyPerKey: number;
  /** A query or export answer whose HTTP client takes no data for this long is cut off. */
  streamStallTimeoutMs: number;
}

export interface PairingLimits {
  failuresPerAddress: number;
  windowSeconds: number;
  failuresPerMinute: number;
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
    trustedProxies: readTrustedProxies(env),
    pairingLimits: {
      failuresPerAddress: readInt(env, 'PLEXUS_PAIRING_FAILURES_PER_ADDRESS', 10, 1, 1000),
      windowSeconds: readInt(env, 'PLEXUS_PAIRING_FAILURE_WINDOW_SECONDS', 600, 1, 86_400),
      failuresPerMinute: readInt(env, 'PLEXUS_PAIRING_FAILURES_PER_MINUTE', 100, 1, 1_000_000),
    },
    http: readHttpLimits(env),
    queryConcurrencyPerKey: readInt(env, 'PLEXUS_QUERY_CONCURRENCY_PER_KEY', 4, 1, 1000),
    streamStallTimeoutMs: readInt(env, 'PLEXUS_STREAM_ACK_TIMEOUT_MS', 15_000, 1000, 600_000),
  };
}

/** `PLEXUS_TRUSTED_PROXIES`: comma-separated IPs or CIDRs (`10.0.0.0/8`, `::1`). */
function readTrustedProxies(env: NodeJS.ProcessEnv): string[] {
  const entries = (readOptionalString(env, 'PLEXUS_TRUSTED_PROXIES') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const [address, prefix, extra] = entry.split('/');
    const version = isIP(address);
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 6 ? 128 : 32));
    if (!version || !prefixOk || extra !== undefined) {
      throw new ConfigError(`PLEXUS_TRUSTED_PROXIES must be comma-separated IP addresses or CIDRs, got "${entry}"`);
    }
  }
  return entries;
}

export const config: GatewayConfig = readConfig();
