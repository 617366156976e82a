/**
 * Domain errors carry a code; each app's filter maps codes to HTTP statuses (and they
 * cross NATS as `{ code, message, details }`), so a reason never turns into a bare 500.
 */
export const ERROR_STATUS = {
  /** A path parameter, query parameter or header is malformed. */
  BAD_REQUEST: 400,
  /** The body is not JSON, too deeply nested, or fails validation. */
  INVALID_BODY: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  /** The credential is valid but lacks the scope the route needs. */
  SCOPE_MISSING: 403,
  NOT_FOUND: 404,
  SESSION_NOT_FOUND: 404,
  CONFLICT: 409,
  CODE_NOT_FOUND: 404,
  CODE_EXPIRED: 410,
  CODE_USED: 410,
  REQUEST_TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorDetail {
  index?: number;
  field: string;
  message: string;
}

export interface WireError {
  code: ErrorCode;
  message: string;
  details?: ErrorDetail[];
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toWire(): WireError {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }

  static fromWire(value: unknown): DomainError | undefined {
    if (typeof value !== 'object' || value === null) return undefined;
    const { code, message, details } = value as Partial<WireError>;
    if (typeof code !== 'string' || !(code in ERROR_STATUS) || typeof message !== 'string') return undefined;
    return new DomainError(code, message, details);
  }
}
