import { randomBytes } from 'node:crypto';
import type { PointValue, SendOptions, Tags } from './points.js';

export interface SessionOptions {
  /** Continue or name a session explicitly; otherwise a fresh id is made. */
  sessionId?: string;
  tags?: Tags;
}

/** What the `session()` callback receives: `send` that files every point under the session. */
export interface PlexusSession {
  readonly id: string;
  readonly name: string;
  send(metric: string, value: PointValue, options?: Omit<SendOptions, 'sessionId'>): Promise<void>;
}

/**
 * Made on the client, in the server's own format, so that a retried POST /api/sessions (after a
 * lost answer) finds the session it already created instead of creating a second one.
 */
export function newSessionId(nowMs: number = Date.now()): string {
  return `session_${Math.floor(nowMs / 1000)}_${randomBytes(4).toString('hex')}`;
}
