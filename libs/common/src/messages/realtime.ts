import type { OnlineSource, SensorDescription } from '../wire/index.js';
import { REALTIME_LIMITS, SOURCE_ID_PATTERN } from '../wire/limits.js';

/** WebSocket close codes of the contract, and the platform's own. */
export const CLOSE_CODES = {
  badCredentials: 4001,
  authTimeout: 4008,
  replaced: 4009,
  revoked: 4010,
  /** The peer does not read: its send queue passed REALTIME_LIMITS' byte bound. */
  sendQueueFull: 4013,
} as const;

/** `SUBJECTS.realtime.presence` reply from one instance. */
export interface PresenceReply {
  sources: OnlineSource[];
  /** Set by an instance answering in pieces: which instance, and whether more pieces follow (see onlineSources). */
  instance_id?: string;
  more?: boolean;
}

/** `SUBJECTS.realtime.takeover` event. */
export interface TakeoverEvent {
  instance_id: string;
  connection_id: string;
}

/** `SUBJECTS.sources.seen` event. */
export interface SourceSeenEvent {
  org_id: string;
  source_id: string;
  platform?: string | null;
  sensors?: SensorDescription[];
  cameras?: unknown[];
  /** A device that authenticated with an API key may be new to the fleet; a paired one never is. */
  create?: boolean;
}

/** `SUBJECTS.sources.paired` request: has the source a device token? */
export interface SourcePairedRequest {
  org_id: string;
  source_id: string;
}
export interface SourcePairedReply {
  paired: boolean;
}

/** `SUBJECTS.audit.commandStarted` request: written before the command is forwarded. */
export interface CommandStartedRequest {
  org_id: string;
  key_id: string;
  source_id: string;
  command_id: string;
  command: string;
}

/** `SUBJECTS.audit.commandFinished` event. */
export interface CommandFinishedEvent {
  org_id: string;
  source_id: string;
  command_id: string;
  exit_code: number | null;
}

/**
 * `SUBJECTS.audit.list` request: the newest `limit` entries (1 to 1,000; 100 when absent), or with
 * `cursor` (the `next_cursor` of a page) the `limit` entries just older than that page's last.
 */
export interface ListCommandAuditRequest {
  org_id: string;
  limit?: number;
  cursor?: string | null;
}
/**
 * `SUBJECTS.audit.list` reply, newest first. `truncated` is true when entries the limit asked for
 * were left out because the reply would have passed its byte bound (an entry may hold 8 KiB texts).
 * `next_cursor` asks for the entries after this page (older ones), whether cut by the limit or by
 * bytes; null when there are none.
 */
export interface ListCommandAuditReply {
  commands: CommandAuditEntry[];
  truncated: boolean;
  next_cursor: string | null;
}

export interface CommandAuditEntry {
  id: string;
  org_id: string;
  key_id: string;
  source_id: string;
  command_id: string;
  command: string;
  started_at: string;
  finished_at: string | null;
  exit_code: number | null;
}

const SOURCE_ID = new RegExp(SOURCE_ID_PATTERN);
const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A string of 1 to `max` characters, well-formed Unicode, no control character (NUL included). */
export function isPrintable(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max && !CONTROL.test(value) && !LONE_SURROGATE.test(value);
}

export function isSourceId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 128 && SOURCE_ID.test(value);
}

/** A realtime instance's id (12 hex characters, realtime's config.ts); a little room for other forms, never a dot. */
const INSTANCE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function isInstanceId(value: unknown): value is string {
  return typeof value === 'string' && INSTANCE_ID.test(value);
}

/** An org id as it may appear in a path and a subject. */
export function isOrgId(value: unknown): value is string {
  return isPrintable(value, REALTIME_LIMITS.maxOrgIdLength);
}

/** Sender input for an error message: at most 64 characters, JSON-quoted so nothing raw is echoed. */
export function quoteInput(value: unknown): string {
  const text = typeof value === 'string' ? value : String(JSON.stringify(value) ?? typeof value);
  const cut = text.length > REALTIME_LIMITS.maxEchoChars;
  return `${JSON.stringify(cut ? text.slice(0, REALTIME_LIMITS.maxEchoChars) : text)}${cut ? '…' : ''}`;
}

/** Whether JSON text nests objects/arrays deeper than `max`; a scan of the text, no recursion. */
export function jsonDepthExceeds(text: string, max: number = REALTIME_LIMITS.maxDepth): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}
