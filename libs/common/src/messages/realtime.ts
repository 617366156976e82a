import type { SensorDescription } from './sources.js';
import { SOURCE_ID_PATTERN } from '../telemetry/ingest-schema.js';

/** WebSocket close codes of the contract, and the platform's own. */
export const CLOSE_CODES = {
  badCredentials: 4001,
  authTimeout: 4008,
  replaced: 4009,
  revoked: 4010,
  /** The peer does not read: its send queue passed REALTIME_LIMITS' byte bound. */
  sendQueueFull: 4013,
} as const;

/** Dashboard → device messages; each names its target with `source_id` when a browser sends it. */
export const DEVICE_COMMANDS = [
  'start_stream',
  'stop_stream',
  'start_session',
  'stop_session',
  'configure',
  'execute',
  'cancel',
  'ping',
] as const;
export type DeviceCommand = (typeof DEVICE_COMMANDS)[number];

/** Device → dashboard messages, relayed to the org's browsers with `source_id` added. */
export const DEVICE_EVENTS = ['telemetry', 'session_started', 'session_stopped', 'output', 'pong', 'error'] as const;
export type DeviceEvent = (typeof DEVICE_EVENTS)[number];

/** `UNAVAILABLE`: credentials cannot be checked now (close 1013, try again later). */
export const REALTIME_ERROR_CODES = ['DEVICE_OFFLINE', 'FORBIDDEN', 'RATE_LIMITED', 'BAD_REQUEST', 'UNAVAILABLE'] as const;
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

/**
 * Bounds of every WebSocket frame field the platform uses (docs/realtime.md lists them).
 * The frame itself is bounded too: over 1 MiB an error, over 4 MiB the socket is closed.
 */
export const REALTIME_LIMITS = {
  /** The org id of a `/party/{org_id}` path, decoded. */
  maxOrgIdLength: 128,
  /** `id` of a command or `output`, and `session_id`. */
  maxIdLength: 128,
  maxNameLength: 256,
  maxPlatformLength: 128,
  maxMetrics: 1000,
  maxMetricLength: 256,
  maxSubscribeSourceIds: 1000,
  /** The device runs the command whole and the audit log keeps it whole: longer is refused. */
  maxCommandLength: 8192,
  maxConfigBytes: 64 * 1024,
  maxSensors: 256,
  maxSensorsBytes: 64 * 1024,
  maxCameras: 64,
  maxCamerasBytes: 16 * 1024,
  maxCredentialLength: 256,
  maxPoints: 10_000,
  maxIntervalMs: 86_400_000,
  /** Objects and arrays nested deeper than this are refused before anything walks them. */
  maxDepth: 32,
  /** Error replies quote at most this many characters of what they were sent. */
  maxEchoChars: 64,
} as const;

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

type Frame = Record<string, unknown>;
/** A problem naming the field, or undefined when the frame is within bounds. */
type Check = (frame: Frame) => string | undefined;

function optionalId(frame: Frame, field: string): string | undefined {
  if (frame[field] === undefined || isPrintable(frame[field], REALTIME_LIMITS.maxIdLength)) return undefined;
  return `"${field}" must be 1 to ${REALTIME_LIMITS.maxIdLength} printable characters`;
}

function requiredId(frame: Frame, field: string): string | undefined {
  if (frame[field] === undefined) return `"${field}" is required`;
  return optionalId(frame, field);
}

function optionalName(frame: Frame, field: string): string | undefined {
  const value = frame[field];
  if (value === undefined || value === null || isPrintable(value, REALTIME_LIMITS.maxNameLength)) return undefined;
  return `"${field}" must be 1 to ${REALTIME_LIMITS.maxNameLength} printable characters`;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '');
}

function streamOptions(frame: Frame): string | undefined {
  const metrics = frame.metrics;
  if (metrics !== undefined) {
    if (!Array.isArray(metrics) || metrics.length > REALTIME_LIMITS.maxMetrics)
      return `"metrics" must be a list of at most ${REALTIME_LIMITS.maxMetrics} names`;
    if (!metrics.every((metric) => isPrintable(metric, REALTIME_LIMITS.maxMetricLength))) {
      return `each of "metrics" must be 1 to ${REALTIME_LIMITS.maxMetricLength} printable characters`;
    }
  }
  const interval = frame.interval_ms;
  if (interval !== undefined && !(typeof interval === 'number' && interval >= 0 && interval <= REALTIME_LIMITS.maxIntervalMs)) {
    return `"interval_ms" must be a number from 0 to ${REALTIME_LIMITS.maxIntervalMs}`;
  }
  return undefined;
}

/** What a browser may send to a device, beyond the `source_id` every command needs (checked by the router). */
const COMMAND_CHECKS: Record<DeviceCommand, Check> = {
  start_stream: (f) => optionalId(f, 'id') ?? streamOptions(f),
  stop_stream: (f) => optionalId(f, 'id'),
  start_session: (f) => optionalId(f, 'id') ?? optionalId(f, 'session_id') ?? optionalName(f, 'session_name') ?? streamOptions(f),
  stop_session: (f) => optionalId(f, 'id') ?? requiredId(f, 'session_id'),
  configure: (f) => {
    if (!isPrintable(f.sensor, REALTIME_LIMITS.maxNameLength))
      return `"sensor" must be 1 to ${REALTIME_LIMITS.maxNameLength} printable characters`;
    if (f.config !== undefined && jsonBytes(f.config) > REALTIME_LIMITS.maxConfigBytes)
      return `"config" must be at most ${REALTIME_LIMITS.maxConfigBytes} bytes as JSON`;
    return optionalId(f, 'id');
  },
  execute: (f) => {
    if (typeof f.command !== 'string' || !f.command) return 'execute needs "command"';
    if (f.command.length > REALTIME_LIMITS.maxCommandLength)
      return `"command" is longer than ${REALTIME_LIMITS.maxCommandLength} characters`;
    return optionalId(f, 'id');
  },
  cancel: (f) => optionalId(f, 'id'),
  ping: (f) => optionalId(f, 'id'),
};

export function checkDeviceCommand(type: DeviceCommand, frame: Frame): string | undefined {
  return COMMAND_CHECKS[type](frame);
}

/** What a device may say (`error` and `pong` carry nothing the platform uses). */
const EVENT_CHECKS: Record<DeviceEvent, Check> = {
  telemetry: (f) => {
    if (f.points !== undefined && (!Array.isArray(f.points) || f.points.length > REALTIME_LIMITS.maxPoints)) {
      return `"points" must be a list of at most ${REALTIME_LIMITS.maxPoints} points`;
    }
    return optionalId(f, 'session_id');
  },
  session_started: (f) => requiredId(f, 'session_id') ?? optionalName(f, 'session_name'),
  session_stopped: (f) => requiredId(f, 'session_id'),
  output: (f) => {
    if (!['start', 'data', 'exit', 'error'].includes(f.event as string)) return '"event" must be "start", "data", "exit" or "error"';
    if (f.code !== undefined && f.code !== null && typeof f.code !== 'number') return '"code" must be a number or null';
    return requiredId(f, 'id');
  },
  pong: () => undefined,
  error: () => undefined,
};

export function checkDeviceEvent(type: DeviceEvent, frame: Frame): string | undefined {
  return EVENT_CHECKS[type](frame);
}

/** `device_auth`'s description of the device: kept in the fleet, so bounded. */
export function checkDeviceDescription(frame: Frame): string | undefined {
  if (frame.platform !== undefined && frame.platform !== null && !isPrintable(frame.platform, REALTIME_LIMITS.maxPlatformLength)) {
    return `"platform" must be 1 to ${REALTIME_LIMITS.maxPlatformLength} printable characters`;
  }
  const { sensors, cameras } = frame;
  if (
    sensors !== undefined &&
    (!Array.isArray(sensors) || sensors.length > REALTIME_LIMITS.maxSensors || jsonBytes(sensors) > REALTIME_LIMITS.maxSensorsBytes)
  ) {
    return `"sensors" must be a list of at most ${REALTIME_LIMITS.maxSensors} sensors and ${REALTIME_LIMITS.maxSensorsBytes} bytes`;
  }
  if (Array.isArray(sensors) && !sensors.every((sensor) => typeof sensor === 'object' && sensor !== null && !Array.isArray(sensor))) {
    return 'each of "sensors" must be an object';
  }
  if (
    cameras !== undefined &&
    (!Array.isArray(cameras) || cameras.length > REALTIME_LIMITS.maxCameras || jsonBytes(cameras) > REALTIME_LIMITS.maxCamerasBytes)
  ) {
    return `"cameras" must be a list of at most ${REALTIME_LIMITS.maxCameras} cameras and ${REALTIME_LIMITS.maxCamerasBytes} bytes`;
  }
  return undefined;
}

/** `subscribe.source_ids`: absent or null (the whole org) or a bounded list of valid source ids. */
export function checkSubscribe(frame: Frame): string | undefined {
  const ids = frame.source_ids;
  if (ids === undefined || ids === null) return undefined;
  if (!Array.isArray(ids) || ids.length > REALTIME_LIMITS.maxSubscribeSourceIds)
    return `"source_ids" must be a list of at most ${REALTIME_LIMITS.maxSubscribeSourceIds} source ids`;
  if (!ids.every(isSourceId)) return 'each of "source_ids" must be a valid source id';
  return undefined;
}
