import { ConfigError, type Env, readVariables } from '../config/read-variables.js';
import { VARIABLES } from '../config/variables.js';

const HTTP_VARIABLES = [
  'PLEXUS_HTTP_REQUEST_TIMEOUT_MS',
  'PLEXUS_HTTP_HEADERS_TIMEOUT_MS',
  'PLEXUS_HTTP_KEEP_ALIVE_TIMEOUT_MS',
  'PLEXUS_HTTP_IDLE_TIMEOUT_MS',
] as const;

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
  requestTimeoutMs: VARIABLES.PLEXUS_HTTP_REQUEST_TIMEOUT_MS.default,
  // PLEXUS_HTTP_HEADERS_TIMEOUT_MS's default: this, or the request timeout if shorter.
  headersTimeoutMs: 15_000,
  keepAliveTimeoutMs: VARIABLES.PLEXUS_HTTP_KEEP_ALIVE_TIMEOUT_MS.default,
  idleTimeoutMs: VARIABLES.PLEXUS_HTTP_IDLE_TIMEOUT_MS.default,
  maxJsonDepth: 64,
};

/** Reads PLEXUS_HTTP_*_TIMEOUT_MS (VARIABLES in config/variables.ts). */
export function readHttpLimits(env: Env = process.env): HttpLimits {
  const variables = readVariables(HTTP_VARIABLES, env);
  const requestTimeoutMs = variables.PLEXUS_HTTP_REQUEST_TIMEOUT_MS;
  const headersTimeoutMs = variables.PLEXUS_HTTP_HEADERS_TIMEOUT_MS ?? Math.min(HTTP_LIMIT_DEFAULTS.headersTimeoutMs, requestTimeoutMs);
  // Node refuses a headers timeout longer than the request timeout.
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError('PLEXUS_HTTP_HEADERS_TIMEOUT_MS must not be longer than PLEXUS_HTTP_REQUEST_TIMEOUT_MS');
  }
  return {
    requestTimeoutMs,
    headersTimeoutMs,
    keepAliveTimeoutMs: variables.PLEXUS_HTTP_KEEP_ALIVE_TIMEOUT_MS,
    idleTimeoutMs: variables.PLEXUS_HTTP_IDLE_TIMEOUT_MS,
    maxJsonDepth: HTTP_LIMIT_DEFAULTS.maxJsonDepth,
  };
}
