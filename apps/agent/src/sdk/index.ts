export { Plexus, DEFAULT_ENDPOINT, type PlexusOptions } from './client.js';
export {
  AuthenticationError,
  PlexusError,
  UnavailableError,
  ValidationError,
  type ErrorDetail,
  type PlexusErrorOptions,
} from './errors.js';
export type { BatchPoint, PointInput, PointValue, SendOptions, Tags, Timestamp } from './points.js';
export { DEFAULT_RETRY_POLICY, delayFor, withRetries, type RetryPolicy, type Sleep } from './retry.js';
export type { PlexusSession, SessionOptions } from './session.js';
