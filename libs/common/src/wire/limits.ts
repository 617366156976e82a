/*
 * Bounds of the WebSocket wire and the id rule every edge shares. This file and the frame
 * schemas beside it import nothing but TypeBox: the dashboard and the agent compile against
 * their declarations (tsconfig.json here), with neither Node's types nor the platform's code.
 */

/** A source id on every edge: HTTP ingest, sockets, pairing (CONTRACT.md). */
export const SOURCE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';

/*
 * No control character (NUL included), no lone surrogate. Compiled with the `u` flag, where a
 * surrogate pair is one code point: the class \uD800-\uDFFF matches exactly the lone surrogates.
 */
export const PRINTABLE_PATTERN = '^[^\\u0000-\\u001F\\u007F\\uD800-\\uDFFF]*$';

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
