import { ConfigError, readInt } from '../config/env.js';

/** Time and shape bounds of every HTTP server of the platform (docs/api.md, "Limits"). */
export interface HttpLimits {
  /** The whole request, headers and body, must arrive within this (CONTRACT: 30 s); else 408. */
  requestTimeoutMs: number;
  /** The request line and headers must arrive within this; else 408. */
  headersTimeoutMs: number;
  /** An idle kept-alive connection is closed after this (longer than common proxies' 60 s). */
  keepAliveTimeoutMs: number;
  /** A socket with no traffic in either direction for this long is closed. */
  idleTimeoutMs: number;
  /** Deepest nesting of arrays/objects a JSON body may have; deeper is 400 INVALID_BODY. */
  maxJsonDepth: number;
}

export const HTTP_LIMIT_DEFAULTS: HttpLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 15_000,
  keepAliveTimeoutMs: 72_000,
  idleTimeoutMs: 120_000,
  maxJsonDepth: 64,
};

type Env = Record<string, string | undefined>;

export function readHttpLimits(env: Env): HttpLimits {
  const requestTimeoutMs = readInt(env, 'PLEXUS_HTTP_REQUEST_TIMEOUT_MS', HTTP_LIMIT_DEFAULTS.requestTimeoutMs, 1000, 3_600_000);
  const headersTimeoutMs = readInt(
    env,
    'PLEXUS_HTTP_HEADERS_TIMEOUT_MS',
    Math.min(HTTP_LIMIT_DEFAULTS.headersTimeoutMs, requestTimeoutMs),
    1000,
    3_600_000,
  );
  // Node refuses a headers timeout longer than the request timeout.
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError('PLEXUS_HTTP_HEADERS_TIMEOUT_MS must not be longer than PLEXUS_HTTP_REQUEST_TIMEOUT_MS');
  }
  return {
    requestTimeoutMs,
    headersTimeoutMs,
    keepAliveTimeoutMs: readInt(env, 'PLEXUS_HTTP_KEEP_ALIVE_TIMEOUT_MS', HTTP_LIMIT_DEFAULTS.keepAliveTimeoutMs, 1000, 3_600_000),
    idleTimeoutMs: readInt(env, 'PLEXUS_HTTP_IDLE_TIMEOUT_MS', HTTP_LIMIT_DEFAULTS.idleTimeoutMs, 1000, 3_600_000),
    maxJsonDepth: HTTP_LIMIT_DEFAULTS.maxJsonDepth,
  };
}
