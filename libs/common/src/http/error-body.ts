import { STATUS_CODES } from 'node:http';
import type { ErrorDetail } from '../errors.js';

/** The one error shape every HTTP answer uses: `{ statusCode, error, message, details? }`. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: ErrorDetail[];
}

export function errorBody(statusCode: number, message: string, details?: ErrorDetail[]): ErrorBody {
  return {
    statusCode,
    error: STATUS_CODES[statusCode] ?? 'Error',
    message,
    ...(details && details.length ? { details } : {}),
  };
}
