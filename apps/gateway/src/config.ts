import { isIP } from 'node:net';
import {
  ConfigError,
  type Env,
  type HttpLimits,
  readHttpLimits,
  readSharedConfig,
  readVariables,
  SharedConfig,
  variablesOf,
} from '#common';

export interface PairingLimits {
  failuresPerAddress: number;
  windowSeconds: number;
  failuresPerMinute: number;
}

/** The gateway's validated config; provided by ConfigModule.forApp(GatewayConfig, readGatewayConfig). */
export abstract class GatewayConfig extends SharedConfig {
  abstract readonly port: number;
  abstract readonly host: string;
  /** What `/api/config` and pairing hand out; defaults to this machine. */
  abstract readonly publicUrl: string;
  /** Whether PUBLIC_URL was set (else /setup uses the address the device reached). */
  abstract readonly publicUrlConfigured: boolean;
  /** The realtime WebSocket base devices and browsers connect to. */
  abstract readonly publicWsUrl: string;
  /** How long a verified API key is trusted without asking the pairing app again. */
  abstract readonly keyCacheTtlMs: number;
  /** Request/headers/keep-alive/idle timeouts (PLEXUS_HTTP_*_TIMEOUT_MS) and JSON depth. */
  abstract readonly http: HttpLimits;
  /** Proxies (IPs or CIDRs) whose X-Forwarded-For is believed; none: the socket's address is the client's. */
  abstract readonly trustedProxies: string[];
  /** Pairing guess limits: wrong codes per client address per window, and per minute across all addresses. */
  abstract readonly pairingLimits: PairingLimits;
  /** Queries and exports one API key may have in flight at once (each holds a database cursor). */
  abstract readonly queryConcurrencyPerKey: number;
  /** A query or export answer whose HTTP client takes no data for this long is cut off. */
  abstract readonly streamStallTimeoutMs: number;
}

/** Reads and checks the gateway's variables; throws a ConfigError naming each bad one. Also what main.ts uses before Nest. */
export function readGatewayConfig(env: Env = process.env): GatewayConfig {
  // Every variable tagged 'gateway' in VARIABLES first, so one error lists every bad one.
  const variables = readVariables(variablesOf('gateway'), env);
  const shared = readSharedConfig(env);
  const http = readHttpLimits(env);
  const publicUrl = (variables.PUBLIC_URL ?? `http://127.0.0.1:${variables.GATEWAY_PORT}`).replace(/\/+$/, '');
  const base = new URL(publicUrl);
  const derivedWsUrl = `${base.protocol === 'https:' ? 'wss' : 'ws'}://${base.hostname}:${variables.REALTIME_PORT}`;
  return {
    ...shared,
    port: variables.GATEWAY_PORT,
    host: variables.GATEWAY_HOST,
    publicUrl,
    publicUrlConfigured: variables.PUBLIC_URL !== undefined,
    publicWsUrl: (variables.PUBLIC_WS_URL ?? derivedWsUrl).replace(/\/+$/, ''),
    keyCacheTtlMs: variables.PLEXUS_KEY_CACHE_TTL_MS,
    trustedProxies: trustedProxies(variables.PLEXUS_TRUSTED_PROXIES),
    pairingLimits: {
      failuresPerAddress: variables.PLEXUS_PAIRING_FAILURES_PER_ADDRESS,
      windowSeconds: variables.PLEXUS_PAIRING_FAILURE_WINDOW_SECONDS,
      failuresPerMinute: variables.PLEXUS_PAIRING_FAILURES_PER_MINUTE,
    },
    http,
    queryConcurrencyPerKey: variables.PLEXUS_QUERY_CONCURRENCY_PER_KEY,
    streamStallTimeoutMs: variables.PLEXUS_STREAM_ACK_TIMEOUT_MS,
  };
}

/** `PLEXUS_TRUSTED_PROXIES`: comma-separated IPs or CIDRs (`10.0.0.0/8`, `::1`). */
function trustedProxies(list: string | undefined): string[] {
  const entries = (list ?? '')
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
