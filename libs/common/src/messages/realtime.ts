import type { SensorDescription } from './sources.js';

/** WebSocket close codes of the contract, and the platform's own. */
export const CLOSE_CODES = {
  badCredentials: 4001,
  authTimeout: 4008,
  replaced: 4009,
  revoked: 4010,
} as const;

/** Dashboard → device messages; each names its target with `source_id` when a browser sends it. */
export const DEVICE_COMMANDS = ['start_stream', 'stop_stream', 'start_session', 'stop_session', 'configure', 'execute', 'cancel', 'ping'] as const;
export type DeviceCommand = (typeof DEVICE_COMMANDS)[number];

/** Device → dashboard messages, relayed to the org's browsers with `source_id` added. */
export const DEVICE_EVENTS = ['telemetry', 'session_started', 'session_stopped', 'output', 'pong', 'error'] as const;
export type DeviceEvent = (typeof DEVICE_EVENTS)[number];

export const REALTIME_ERROR_CODES = ['DEVICE_OFFLINE', 'FORBIDDEN', 'RATE_LIMITED', 'BAD_REQUEST'] as const;
export type RealtimeErrorCode = (typeof REALTIME_ERROR_CODES)[number];

export interface OnlineSource {
  source_id: string;
  platform: string | null;
  sensors: SensorDescription[];
  cameras?: unknown[];
  connected_at: string;
}

/** `SUBJECTS.realtime.presence` reply from one instance. */
export interface PresenceReply {
  sources: OnlineSource[];
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
