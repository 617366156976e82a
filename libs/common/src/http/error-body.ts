import { STATUS_CODES } from 'node:http';
import type { ErrorCode, ErrorDetail } from '../errors.js';

/** The one error shape every HTTP answer uses: `{ statusCode, error, code, message, details? }`. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  /** Stable and upper-case (CONTRACT.md, "Error bodies carry a code"); clients branch on it. */
  code: ErrorCode;
  message: string;
  details?: ErrorDetail[];
}

/** Messages may quote input (a path, a key); they are cut here so no answer echoes much of it. */
const MAX_MESSAGE_CHARS = 512;

export function errorBody(
  statusCode: number,
  message: string,
  details?: ErrorDetail[],
  code: ErrorCode = codeForStatus(statusCode),
): ErrorBody {
  return {
    statusCode,
    error: STATUS_CODES[statusCode] ?? 'Error',
    code,
    message: message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}…` : message,
    ...(details && details.length ? { details } : {}),
  };
}

/** The code of an error that carries only an HTTP status (Nest's and Fastify's own errors). */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'INVALID_BODY';
    case 401:
      return 'UNAUTHORIZED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 408:
      return 'REQUEST_TIMEOUT';
    case 409:
      return 'CONFLICT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'RATE_LIMITED';
    case 503:
      return 'SERVICE_UNAVAILABLE';
    default:
      return status >= 500 ? 'INTERNAL' : 'BAD_REQUEST';
  }
}
