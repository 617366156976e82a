import type { OnlineSource } from '#common';

/**
 * NATS refuses a message larger than the server's max_payload (1 MiB by default), and one
 * instance's sources of an org pass that at about 8,000 devices (about 130 bytes each with no
 * sensors). A presence answer is therefore sent in pieces of at most this many bytes; the
 * asker (`onlineSources`) gathers every reply until none has come for 100 ms. One source's
 * description is bounded by the wire schema (sensors 64 KiB, cameras 16 KiB), well under it.
 */
export const PRESENCE_REPLY_BYTES = 256 * 1024;

const OPEN = '{"sources":[';
const CLOSE = ']}';

/**
 * `sources` as PresenceReply JSON texts, each at most `maxBytes` UTF-8 bytes unless a single
 * source is larger by itself (then it travels alone). Always at least one: an empty list still
 * says this instance answered.
 */
export function presenceReplies(sources: OnlineSource[], maxBytes = PRESENCE_REPLY_BYTES): string[] {
  const replies: string[] = [];
  let parts: string[] = [];
  let bytes = OPEN.length + CLOSE.length;
  for (const source of sources) {
    const text = JSON.stringify(source);
    const size = Buffer.byteLength(text) + (parts.length ? 1 : 0);
    if (parts.length && bytes + size > maxBytes) {
      replies.push(`${OPEN}${parts.join(',')}${CLOSE}`);
      parts = [];
      bytes = OPEN.length + CLOSE.length;
    }
    bytes += Buffer.byteLength(text) + (parts.length ? 1 : 0);
    parts.push(text);
  }
  replies.push(`${OPEN}${parts.join(',')}${CLOSE}`);
  return replies;
}
