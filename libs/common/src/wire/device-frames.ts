import Type, { type Static } from 'typebox';
import { Credential, Id, IntervalMs, JsonObject, Metrics, Name, nullable, printable, SourceId } from './fields.js';
import { REALTIME_LIMITS } from './limits.js';

/*
 * The device side of the WebSocket contract (CONTRACT.md, docs/realtime.md): what a device
 * says and what it is told. Fields the platform does not read are left open (a frame may
 * carry more; it is relayed as sent), so the Python agent's frames pass as they are.
 */

/** A sensor as a device describes itself; kept in the fleet and shown as sent. */
export const SensorDescription = Type.Object({
  name: Type.String(),
  description: Type.Optional(Type.String()),
  metrics: Type.Optional(Type.Array(Type.String())),
  sample_rate: Type.Optional(Type.Number()),
  prefix: Type.Optional(Type.String()),
  available: Type.Optional(Type.Boolean()),
});
export type SensorDescription = Static<typeof SensorDescription>;

/** The first frame of a device. Which credential counts, and for which source, is the authenticator's rule. */
export const DeviceAuthFrame = Type.Object({
  type: Type.Literal('device_auth'),
  device_token: Type.Optional(Credential),
  /** Legacy: an API key with `write`, naming its `source_id`. */
  api_key: Type.Optional(Credential),
  /** Read only with an API key (a token's own source is the identity), and then checked as a source id. */
  source_id: Type.Optional(Type.String({ refusal: 'must be a string' })),
  platform: Type.Optional(nullable(printable(REALTIME_LIMITS.maxPlatformLength))),
  // Checked only as objects: the fleet keeps whatever the device said about them.
  sensors: Type.Optional(
    Type.Array(JsonObject, {
      maxItems: REALTIME_LIMITS.maxSensors,
      maxJsonBytes: REALTIME_LIMITS.maxSensorsBytes,
      refusal: `must be a list of at most ${REALTIME_LIMITS.maxSensors} sensors and ${REALTIME_LIMITS.maxSensorsBytes} bytes`,
    }),
  ),
  cameras: Type.Optional(
    Type.Array(Type.Unknown(), {
      maxItems: REALTIME_LIMITS.maxCameras,
      maxJsonBytes: REALTIME_LIMITS.maxCamerasBytes,
      refusal: `must be a list of at most ${REALTIME_LIMITS.maxCameras} cameras and ${REALTIME_LIMITS.maxCamerasBytes} bytes`,
    }),
  ),
});
export type DeviceAuthFrame = Static<typeof DeviceAuthFrame>;

/** Device → server. */
export const DEVICE_EVENT_FRAMES = {
  /** Live points are relayed as sent; recorded ones (with a session id) are checked by the ingest rules. */
  telemetry: Type.Object({
    type: Type.Literal('telemetry'),
    points: Type.Optional(
      Type.Array(Type.Unknown(), {
        maxItems: REALTIME_LIMITS.maxPoints,
        refusal: `must be a list of at most ${REALTIME_LIMITS.maxPoints} points`,
      }),
    ),
    session_id: Type.Optional(Id),
  }),
  session_started: Type.Object({
    type: Type.Literal('session_started'),
    session_id: Id,
    session_name: Type.Optional(nullable(Name)),
  }),
  session_stopped: Type.Object({ type: Type.Literal('session_stopped'), session_id: Id }),
  /** The shell's answer to `execute`: `command` with start, `data` with data, `code` with exit, `error` with error. */
  output: Type.Object({
    type: Type.Literal('output'),
    id: Id,
    event: Type.Enum(['start', 'data', 'exit', 'error'], { refusal: 'must be "start", "data", "exit" or "error"' }),
    command: Type.Optional(Type.Unknown()),
    data: Type.Optional(Type.Unknown()),
    code: Type.Optional(Type.Union([Type.Null(), Type.Number()], { refusal: 'must be a number or null' })),
    error: Type.Optional(Type.Unknown()),
  }),
  pong: Type.Object({ type: Type.Literal('pong') }),
  error: Type.Object({ type: Type.Literal('error'), message: Type.Optional(Type.Unknown()) }),
};
export type DeviceEvent = keyof typeof DEVICE_EVENT_FRAMES;
export const DEVICE_EVENTS = Object.keys(DEVICE_EVENT_FRAMES) as DeviceEvent[];
export type DeviceEventFrame<K extends DeviceEvent = DeviceEvent> = { [T in K]: Static<(typeof DEVICE_EVENT_FRAMES)[T]> }[K];

/**
 * Dashboard → device. A browser names the device with `source_id` (checked before anything
 * else: it enters a NATS subject); the device gets the frame exactly as the browser sent it.
 */
export const DEVICE_COMMAND_FRAMES = {
  start_stream: Type.Object({
    type: Type.Literal('start_stream'),
    source_id: SourceId,
    id: Type.Optional(Id),
    metrics: Type.Optional(Metrics),
    interval_ms: Type.Optional(IntervalMs),
  }),
  /** `id` "*" (or none) stops every stream. */
  stop_stream: Type.Object({ type: Type.Literal('stop_stream'), source_id: SourceId, id: Type.Optional(Id) }),
  /** Without `session_id` the platform makes one before the device hears of it. */
  start_session: Type.Object({
    type: Type.Literal('start_session'),
    source_id: SourceId,
    id: Type.Optional(Id),
    session_id: Type.Optional(Id),
    session_name: Type.Optional(nullable(Name)),
    metrics: Type.Optional(Metrics),
    interval_ms: Type.Optional(IntervalMs),
  }),
  stop_session: Type.Object({ type: Type.Literal('stop_session'), source_id: SourceId, id: Type.Optional(Id), session_id: Id }),
  configure: Type.Object({
    type: Type.Literal('configure'),
    source_id: SourceId,
    id: Type.Optional(Id),
    sensor: Name,
    config: Type.Optional(
      Type.Unknown({
        maxJsonBytes: REALTIME_LIMITS.maxConfigBytes,
        refusal: `must be at most ${REALTIME_LIMITS.maxConfigBytes} bytes as JSON`,
      }),
    ),
  }),
  /** Without `id` the platform makes one (the audit log's key) before the device hears of it. */
  execute: Type.Object({
    type: Type.Literal('execute'),
    source_id: SourceId,
    id: Type.Optional(Id),
    command: Type.String({
      minLength: 1,
      maxLength: REALTIME_LIMITS.maxCommandLength,
      refusal: `must be 1 to ${REALTIME_LIMITS.maxCommandLength} characters`,
    }),
  }),
  /** Without `id` every running command is cancelled. */
  cancel: Type.Object({ type: Type.Literal('cancel'), source_id: SourceId, id: Type.Optional(Id) }),
  ping: Type.Object({ type: Type.Literal('ping'), source_id: SourceId, id: Type.Optional(Id) }),
};
export type DeviceCommand = keyof typeof DEVICE_COMMAND_FRAMES;
export const DEVICE_COMMANDS = Object.keys(DEVICE_COMMAND_FRAMES) as DeviceCommand[];
export type DeviceCommandFrame<K extends DeviceCommand = DeviceCommand> = { [T in K]: Static<(typeof DEVICE_COMMAND_FRAMES)[T]> }[K];

/** Server → device, besides the commands: the answer to `device_auth`, and errors. */
export const AuthenticatedFrame = Type.Object({ type: Type.Literal('authenticated'), source_id: Type.String() });
export type AuthenticatedFrame = Static<typeof AuthenticatedFrame>;

/** What a device hears. */
export type ServerToDeviceFrame = DeviceCommandFrame | AuthenticatedFrame | ErrorFrame;

export const REALTIME_ERROR_CODES = ['DEVICE_OFFLINE', 'FORBIDDEN', 'RATE_LIMITED', 'BAD_REQUEST', 'UNAVAILABLE'] as const;
/** `UNAVAILABLE`: credentials cannot be checked now (close 1013, try again later). */
export type RealtimeErrorCode = (typeof REALTIME_ERROR_CODES)[number];

/** The server's error frame: `source_id` and `id` name the command it answers, when within bounds. */
export const ErrorFrame = Type.Object({
  type: Type.Literal('error'),
  code: Type.Optional(Type.Enum([...REALTIME_ERROR_CODES])),
  message: Type.String(),
  source_id: Type.Optional(Type.String()),
  id: Type.Optional(Type.String()),
});
export type ErrorFrame = Static<typeof ErrorFrame>;
