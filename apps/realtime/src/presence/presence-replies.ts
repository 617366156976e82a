import type { OnlineSource, PresenceReply } from '#common';

/**
 * NATS refuses a message larger than the server's max_payload (1 MiB by default), and one
 * instance's sources of an org pass that at about 8,000 devices (about 130 bytes each with no
 * sensors). A presence answer is therefore sent in pieces of at most this many bytes. One
 * source's description is bounded by the wire schema (sensors 64 KiB, cameras 16 KiB), well under it.
 */
export const PRESENCE_REPLY_BYTES = 256 * 1024;

/**
 * Sent first, before the list is built: the asker (`onlineSources`) then waits for this
 * instance's last piece rather than stopping 100 ms after another instance's quick answer.
 */
export function presenceNotice(instanceId: string): string {
  const notice: PresenceReply = { sources: [], instance_id: instanceId, more: true };
  return JSON.stringify(notice);
}

/**
 * `sources` as PresenceReply JSON texts, each at most `maxBytes` UTF-8 bytes unless a single
 * source is larger by itself (then it travels alone); every piece names the instance, the last
 * one says `more: false`. Always at least one piece.
 */
export function presenceReplies(sources: OnlineSource[], instanceId: string, maxBytes = PRESENCE_REPLY_BYTES): string[] {
  const open = '{"sources":[';
  const close = (more: boolean) => `],"instance_id":${JSON.stringify(instanceId)},"more":${more}}`;
  const envelope = Buffer.byteLength(open) + Buffer.byteLength(close(false));
  const pieces: string[][] = [];
  let parts: string[] = [];
  let bytes = envelope;
  for (const source of sources) {
    const text = JSON.stringify(source);
    const size = Buffer.byteLength(text) + (parts.length ? 1 : 0);
    if (parts.length && bytes + size > maxBytes) {
      pieces.push(parts);
      parts = [];
      bytes = envelope;
    }
    bytes += Buffer.byteLength(text) + (parts.length ? 1 : 0);
    parts.push(text);
  }
  pieces.push(parts);
  return pieces.map((piece, i) => `${open}${piece.join(',')}${close(i < pieces.length - 1)}`);
}
