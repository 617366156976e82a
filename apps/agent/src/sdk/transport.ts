import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { AuthenticationError, type ErrorDetail, PlexusError, ValidationError } from './errors.js';

const gzip = promisify(gzipCallback);

/** Below this, compressing costs more time than the bytes it saves. */
export const GZIP_FROM_BYTES = 1024;

/** Statuses that mean "not now" rather than "no": 503 and 429 per the contract; 408/502/504 come from proxies in between. */
const RETRYABLE_STATUSES = new Set([408, 429, 502, 503, 504]);

export interface TransportOptions {
  endpoint: string;
  apiKey: string;
  fetch: typeof fetch;
  gzip: boolean;
  /** A request that hangs (a half-open connection) is abandoned after this and retried. */
  timeoutMs: number;
}

export interface EncodedBody {
  // ArrayBuffer-backed: what fetch's BodyInit accepts under both the DOM and the Node typings.
  body: string | Uint8Array<ArrayBuffer>;
  headers: Record<string, string>;
}

export async function encodeJson(json: string, useGzip: boolean): Promise<EncodedBody> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (!useGzip || Buffer.byteLength(json) <= GZIP_FROM_BYTES) return { body: json, headers };
  return { body: new Uint8Array(await gzip(json)), headers: { ...headers, 'content-encoding': 'gzip' } };
}

/**
 * One HTTP exchange with the platform. Answers are mapped to the SDK's errors: retryable ones
 * (429, 503, network failures, timeouts) are marked so `withRetries` tries again.
 */
export async function request(
  options: TransportOptions,
  method: string,
  path: string,
  body?: EncodedBody,
  extraHeaders: Record<string, string> = {},
): Promise<unknown> {
  const url = `${options.endpoint}${path}`;
  let response: Response;
  let text: string;
  try {
    response = await options.fetch(url, {
      method,
      headers: { 'x-api-key': options.apiKey, 'user-agent': 'plexus-agent-js', ...body?.headers, ...extraHeaders },
      body: body?.body,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    text = await response.text();
  } catch (error) {
    throw new PlexusError(`${method} ${url} failed: ${describeNetworkError(error)}`, { retryable: true, cause: error });
  }
  const parsed = parseJson(text);
  if (response.ok) return parsed;
  throw errorFromAnswer(response, parsed, text);
}

function errorFromAnswer(response: Response, parsed: unknown, text: string): PlexusError {
  const status = response.status;
  const answer = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { message?: unknown; details?: unknown };
  const message =
    typeof answer.message === 'string'
      ? answer.message
      : `${status} ${response.statusText || 'error'}${text ? `: ${text.slice(0, 200)}` : ''}`;
  const details = Array.isArray(answer.details) ? (answer.details as ErrorDetail[]) : undefined;
  if (status === 401 || status === 403) return new AuthenticationError(message, { status, details });
  if (status === 400 || status === 413) return new ValidationError(message, { status, details });
  return new PlexusError(message, {
    status,
    details,
    retryable: RETRYABLE_STATUSES.has(status),
    retryAfterSeconds: parseRetryAfter(response.headers.get('retry-after')),
  });
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(header: string | null, nowMs: number = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(header)) return Number(header);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - nowMs) / 1000);
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** fetch reports every failure as "fetch failed"; the useful part (ECONNREFUSED, …) is in its cause. */
function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  if (cause?.code) return `${error.message} (${cause.code})`;
  if (cause?.message) return `${error.message} (${cause.message})`;
  return error.message;
}
