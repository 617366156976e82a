/** One entry of an error answer's `details`: which point (by index) and which field was refused. */
export interface ErrorDetail {
  index?: number;
  field?: string;
  message?: string;
}

export interface PlexusErrorOptions {
  status?: number;
  details?: ErrorDetail[];
  cause?: unknown;
  /** True when the same request may succeed later (429, 503, network errors): `withRetries` retries only these. */
  retryable?: boolean;
  /** The server's Retry-After, in seconds, when it sent one. */
  retryAfterSeconds?: number;
}

/** Every error the SDK raises; `status` is the HTTP status when the server answered. */
export class PlexusError extends Error {
  readonly status?: number;
  readonly details?: ErrorDetail[];
  readonly retryable: boolean;
  readonly retryAfterSeconds?: number;

  constructor(message: string, options: PlexusErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = options.status;
    this.details = options.details;
    this.retryable = options.retryable ?? false;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** 401 (missing, invalid or revoked key) or 403 (the key lacks the scope): retrying cannot help. */
export class AuthenticationError extends PlexusError {}

/** 400 or 413, or a point refused before sending: the request itself is wrong, so it is never retried. */
export class ValidationError extends PlexusError {}

/** Every attempt failed with a retryable error; `cause` is the last one. */
export class UnavailableError extends PlexusError {
  readonly attempts: number;

  constructor(attempts: number, lastError: PlexusError) {
    super(`gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${lastError.message}`, {
      status: lastError.status,
      details: lastError.details,
      cause: lastError,
    });
    this.attempts = attempts;
  }
}
