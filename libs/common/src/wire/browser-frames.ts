import Type, { type Static } from 'typebox';
import { type DeviceCommandFrame, type DeviceEventFrame, type ErrorFrame, SensorDescription } from './device-frames.js';
import { Credential, nullable, SourceId } from './fields.js';
import { REALTIME_LIMITS } from './limits.js';

/* The dashboard side of the WebSocket contract (CONTRACT.md, docs/realtime.md). */

/** The first frame of a browser: a key with `read`, `control` or `admin`. */
export const BrowserAuthFrame = Type.Object({ type: Type.Literal('browser_auth'), api_key: Credential });
export type BrowserAuthFrame = Static<typeof BrowserAuthFrame>;

/** Narrows what the browser receives; absent or null `source_ids`: the whole org again. */
export const SubscribeFrame = Type.Object({
  type: Type.Literal('subscribe'),
  source_ids: Type.Optional(
    nullable(
      Type.Array(SourceId, {
        maxItems: REALTIME_LIMITS.maxSubscribeSourceIds,
        refusal: `must be a list of at most ${REALTIME_LIMITS.maxSubscribeSourceIds} source ids`,
      }),
    ),
  ),
});
export type SubscribeFrame = Static<typeof SubscribeFrame>;

/** Without `source_id` a browser's ping is the server's to answer (`pong`); with it, it goes to the device. */
export const ServerPingFrame = Type.Object({ type: Type.Literal('ping') });
export type ServerPingFrame = Static<typeof ServerPingFrame>;

/** What a browser may send after `browser_auth`. */
export type BrowserToServerFrame = SubscribeFrame | ServerPingFrame | DeviceCommandFrame;

/** A device online somewhere, as `init` and presence replies list it. */
export const OnlineSource = Type.Object({
  source_id: Type.String(),
  platform: Type.Union([Type.Null(), Type.String()]),
  sensors: Type.Array(SensorDescription),
  cameras: Type.Optional(Type.Array(Type.Unknown())),
  connected_at: Type.String(),
});
export type OnlineSource = Static<typeof OnlineSource>;

/** The answer to `browser_auth`, always the browser's first frame. */
export const InitFrame = Type.Object({ type: Type.Literal('init'), org_id: Type.String(), online_sources: Type.Array(OnlineSource) });
export type InitFrame = Static<typeof InitFrame>;

export const SourceStatusFrame = Type.Object({
  type: Type.Literal('source_status'),
  source_id: Type.String(),
  status: Type.Enum(['online', 'offline']),
});
export type SourceStatusFrame = Static<typeof SourceStatusFrame>;

export const SubscribedFrame = Type.Object({
  type: Type.Literal('subscribed'),
  source_ids: Type.Union([Type.Null(), Type.Array(Type.String())]),
});
export type SubscribedFrame = Static<typeof SubscribedFrame>;

export const PongFrame = Type.Object({ type: Type.Literal('pong') });
export type PongFrame = Static<typeof PongFrame>;

/**
 * Live telemetry this browser did not get, since the last such frame (at most one a second, only
 * when something was dropped): `late` was older than the realtime ceiling
 * (PLEXUS_WS_TELEMETRY_MAX_AGE_MS) at some hop, `overflow` did not fit this browser's send queue.
 */
export const TelemetryDroppedFrame = Type.Object({
  type: Type.Literal('telemetry_dropped'),
  count: Type.Integer({ minimum: 1 }),
  late: Type.Integer({ minimum: 0 }),
  overflow: Type.Integer({ minimum: 0 }),
});
export type TelemetryDroppedFrame = Static<typeof TelemetryDroppedFrame>;

/** Every device → server message reaches browsers with the device's `source_id` set by the server. */
export type RelayedDeviceFrame = DeviceEventFrame & { source_id: string };

/** What a browser hears (a `pong` without `source_id` answers its own ping). */
export type ServerToBrowserFrame =
  InitFrame | SourceStatusFrame | SubscribedFrame | PongFrame | ErrorFrame | RelayedDeviceFrame | TelemetryDroppedFrame;
