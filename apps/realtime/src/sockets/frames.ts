import type { RawData } from 'ws';
import { jsonDepthExceeds, REALTIME_LIMITS } from '#common';

/**
 * A frame as parsed, before the wire's validators have seen it: a JSON object with a string
 * `type`. `source_id` and `id` are read (as unknown) only to echo them in an error within bounds.
 */
export interface UncheckedFrame {
  type: string;
  source_id?: unknown;
  id?: unknown;
}

export type ParsedFrame = { ok: true; message: UncheckedFrame; text: string } | { ok: false; error: string };

function isUncheckedFrame(value: unknown): value is UncheckedFrame {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'type' in value && typeof value.type === 'string';
}

/**
 * A frame as the protocol wants it: JSON text, an object with a string `type`, at most
 * `maxBytes`, nested at most REALTIME_LIMITS.maxDepth deep (so nothing that walks it later,
 * JSON.stringify included, can run out of stack).
 */
export function parseFrame(data: RawData, isBinary: boolean, maxBytes: number): ParsedFrame {
  const size = Array.isArray(data) ? data.reduce((sum, part) => sum + part.length, 0) : (data as Buffer).byteLength;
  if (size > maxBytes) return { ok: false, error: `frame of ${size} bytes is larger than ${maxBytes} bytes` };
  if (isBinary) return { ok: false, error: 'frames must be JSON text, not binary' };
  const text = Array.isArray(data)
    ? Buffer.concat(data).toString('utf8')
    : data instanceof ArrayBuffer
      ? Buffer.from(data).toString('utf8')
      : data.toString('utf8');
  if (jsonDepthExceeds(text)) return { ok: false, error: `frame nests deeper than ${REALTIME_LIMITS.maxDepth} levels` };
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return { ok: false, error: 'frame is not valid JSON' };
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return { ok: false, error: 'frame must be a JSON object' };
  if (!isUncheckedFrame(message)) return { ok: false, error: 'frame has no "type"' };
  return { ok: true, message, text };
}

/**
 * The frame's text with `source_id` set, for browsers, always as its first member: spliced in
 * front when the device did not send one (no re-serialisation), rewritten when it did, so a
 * device cannot speak for another.
 */
export function withSourceId(text: string, frame: object, sourceId: string): string {
  if (Object.prototype.hasOwnProperty.call(frame, 'source_id')) {
    const { source_id: _claimed, ...rest } = frame as { source_id?: unknown };
    return JSON.stringify({ source_id: sourceId, ...rest });
  }
  const brace = text.indexOf('{');
  return `{"source_id":${JSON.stringify(sourceId)},${text.slice(brace + 1)}`;
}
