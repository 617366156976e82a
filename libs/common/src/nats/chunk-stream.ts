import { Readable } from 'node:stream';
import { createInbox, headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { DomainError } from '../errors.js';

/**
 * Streams a large answer (an export, a long query) over NATS with flow control.
 * The caller publishes a request whose reply subject is a fresh inbox; the responder
 * sends `start` at once, then one chunk at a time as a request to that inbox and waits for
 * the caller's ack, so a slow HTTP client slows the database cursor instead of filling memory.
 *
 * Every wait is bounded, so a caller that stops reading cannot hold a database cursor:
 * the responder gives up (and closes its cursor) when a chunk is not acked within
 * `ackTimeoutMs`; the caller ends the HTTP answer when its client takes no data for
 * `stallTimeoutMs`, and gives up on a responder silent for `silenceTimeoutMs`.
 */
const KIND = 'Plexus-Chunk';
/** Characters per chunk message. */
const MAX_CHUNK_BYTES = 256 * 1024;

export const CHUNK_STREAM_DEFAULTS = {
  /** No responder takes the request within this → 503. */
  firstChunkTimeoutMs: 5_000,
  /** The responder waits this long for the caller to take a chunk, then closes its cursor. */
  ackTimeoutMs: 15_000,
  /** The caller's HTTP client must take data within this, else the answer is cut off. */
  stallTimeoutMs: 15_000,
  /** The responder must send the first data, and each next chunk, within this (above the read statement timeout). */
  silenceTimeoutMs: 65_000,
} as const;

export interface ChunkStreamOptions {
  /** How long to wait for the first chunk (no responder → 503). */
  firstChunkTimeoutMs?: number;
  /** How long the responder waits for the caller's ack before giving up. */
  ackTimeoutMs?: number;
  /** How long the caller waits for each later chunk before giving up on the responder. */
  silenceTimeoutMs?: number;
  /** How long the HTTP client may take no data before the answer is ended (readableChunks). */
  stallTimeoutMs?: number;
  /** Ends the request early: the inbox is unsubscribed and the iteration finishes. */
  signal?: AbortSignal;
}

/** Caller side: yields each chunk's bytes; throws the responder's DomainError. */
export async function* requestChunks(
  nc: NatsConnection,
  subject: string,
  payload: unknown,
  options: ChunkStreamOptions = {},
): AsyncGenerator<Uint8Array> {
  const inbox = createInbox();
  const sub = nc.subscribe(inbox);
  const iterator = sub[Symbol.asyncIterator]();
  // The chunk handed out and not acked yet: answered `cancel` when the caller stops early,
  // so the responder closes its cursor now rather than after its ack timeout.
  let unacked: Msg | undefined;
  const stop = () => {
    cancel(unacked);
    unacked = undefined;
    sub.unsubscribe();
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    nc.publish(subject, JSON.stringify(payload), { reply: inbox });
    let first = true;
    for (;;) {
      const waitMs = first
        ? (options.firstChunkTimeoutMs ?? CHUNK_STREAM_DEFAULTS.firstChunkTimeoutMs)
        : (options.silenceTimeoutMs ?? CHUNK_STREAM_DEFAULTS.silenceTimeoutMs);
      const message = first ? `no answer from ${subject}; retry later` : `${subject} stopped answering midway`;
      const result = await Promise.race([
        iterator.next(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new DomainError('SERVICE_UNAVAILABLE', message)), waitMs);
        }),
      ]);
      clearTimeout(timer);
      first = false;
      if (result.done) return;
      const msg: Msg = result.value;
      if (msg.headers?.hasError) {
        // The server's own status message: 503 "no responders" when nobody serves the subject.
        throw new DomainError('SERVICE_UNAVAILABLE', `no answer from ${subject}; retry later`);
      }
      const kind = msg.headers?.get(KIND);
      if (kind === 'start') {
        // A responder took the request: its first data may take as long as its query does.
        msg.respond();
        continue;
      }
      if (kind === 'error') {
        msg.respond();
        throw errorFromWire(msg);
      }
      if (kind === 'end') {
        msg.respond();
        return;
      }
      unacked = msg;
      yield msg.data;
      unacked = undefined;
      msg.respond();
    }
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', stop);
    stop();
  }
}

function cancel(msg: Msg | undefined): void {
  if (!msg) return;
  const h = headers();
  h.set(KIND, 'cancel');
  msg.respond('', { headers: h });
}

/** Where to cut text near `at` without splitting a surrogate pair (which would become U+FFFD). */
export function safeCut(text: string, at: number): number {
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff ? at - 1 : at;
}

/** The caller stopped reading and said so: nothing more to send, nobody to tell. */
class ChunkStreamCancelled extends Error {}

function errorFromWire(msg: Msg): DomainError {
  try {
    return DomainError.fromWire(msg.json()) ?? new DomainError('INTERNAL', 'stream failed');
  } catch {
    return new DomainError('INTERNAL', 'stream failed');
  }
}

/** Responder side: sends every chunk (batched up to ~256 KiB), then the end marker. */
export async function replyChunks(
  nc: NatsConnection,
  inbox: string,
  chunks: AsyncIterable<string>,
  options: ChunkStreamOptions = {},
): Promise<void> {
  const ackTimeout = options.ackTimeoutMs ?? CHUNK_STREAM_DEFAULTS.ackTimeoutMs;
  const send = async (kind: 'start' | 'data' | 'end' | 'error', body: string, timeout = ackTimeout) => {
    const h = headers();
    h.set(KIND, kind);
    let ack: Msg;
    try {
      ack = await nc.request(inbox, body, { timeout, headers: h });
    } catch (error) {
      // A caller that takes no chunk in time is a slow client, not a fault: its cursor is closed.
      if (kind === 'data' || kind === 'start') {
        throw new DomainError('SERVICE_UNAVAILABLE', `the caller took no data for ${ackTimeout} ms; the answer was abandoned`);
      }
      throw error;
    }
    if (kind === 'data' && ack.headers?.get(KIND) === 'cancel') throw new ChunkStreamCancelled();
  };
  try {
    // At once, before any query runs: the caller knows a responder has its request, and waits
    // for the first data as long as a query may run rather than its short no-responder timeout.
    await send('start', '');
    let pending = '';
    // Leaving this loop early (a send timed out: the caller stopped reading) returns the
    // iterator, which closes the database cursor behind it and frees its connection.
    for await (const chunk of chunks) {
      pending += chunk;
      // A piece is at most MAX_CHUNK_BYTES characters (≤ 768 KiB of UTF-8, under NATS's
      // 1 MiB max_payload), however much one database fetch brought.
      while (pending.length >= MAX_CHUNK_BYTES) {
        const cut = safeCut(pending, MAX_CHUNK_BYTES);
        await send('data', pending.slice(0, cut));
        pending = pending.slice(cut);
      }
    }
    if (pending) await send('data', pending);
    await send('end', '');
  } catch (error) {
    if (error instanceof ChunkStreamCancelled) return;
    const wire = error instanceof DomainError ? error.toWire() : new DomainError('INTERNAL', 'the answer failed midway').toWire();
    // Short: a caller that took no chunk for ackTimeout will not take this one either.
    await send('error', JSON.stringify(wire), Math.min(ackTimeout, 2_000)).catch(() => undefined);
    if (!(error instanceof DomainError)) throw error;
  }
}

/**
 * Serves a chunked answer on `subject` (queue group: one responder per request).
 * The handler returns the answer's text pieces; errors reach the caller as wire errors,
 * and nothing a request carries can throw out of the subscription's callback.
 */
export function serveChunks<T>(
  nc: NatsConnection,
  subject: string,
  queue: string,
  handler: (request: T) => AsyncIterable<string>,
  onError: (error: unknown) => void,
  options: ChunkStreamOptions = {},
): { unsubscribe(): void } {
  return nc.subscribe(subject, {
    queue,
    callback: (error, msg) => {
      if (error || !msg.reply) return;
      const reply = msg.reply;
      let chunks: AsyncIterable<string>;
      try {
        chunks = handler(msg.json<T>());
      } catch (cause) {
        chunks = failing(cause instanceof DomainError ? cause : new DomainError('BAD_REQUEST', 'the request is not valid JSON'));
      }
      replyChunks(nc, reply, chunks, options).catch(onError);
    },
  });
}

/** An answer that is its error: replyChunks sends it after `start`, like any other failure. */
// eslint-disable-next-line require-yield -- an answer with no chunk at all, only its error
async function* failing(error: DomainError): AsyncGenerator<string> {
  throw error;
}

/**
 * A chunked answer as a Node stream for an HTTP reply. The first chunk is awaited, so an
 * error (unknown session, no responder, too busy) surfaces as its status code rather than a
 * broken 200. A client that takes no data for `stallTimeoutMs` has its answer cut off, which
 * ends the request to the responder (and so its database cursor) too.
 */
export async function readableChunks(
  nc: NatsConnection,
  subject: string,
  payload: unknown,
  wrap: { prefix?: string; suffix?: string } = {},
  options: ChunkStreamOptions = {},
): Promise<Readable> {
  const abort = new AbortController();
  const chunks = requestChunks(nc, subject, payload, { ...options, signal: abort.signal });
  let first: IteratorResult<Uint8Array>;
  try {
    first = await chunks.next();
  } catch (error) {
    abort.abort();
    throw error instanceof DomainError ? error : new DomainError('SERVICE_UNAVAILABLE', `${subject} could not answer; retry later`);
  }
  const stallMs = options.stallTimeoutMs ?? CHUNK_STREAM_DEFAULTS.stallTimeoutMs;
  async function* all(): AsyncGenerator<Uint8Array | string> {
    if (wrap.prefix) yield wrap.prefix;
    if (!first.done) {
      yield first.value;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
    }
    if (wrap.suffix) yield wrap.suffix;
  }
  // The generator rests at a yield until the client takes the piece: that rest is what is timed.
  async function* watched(): AsyncGenerator<Uint8Array | string> {
    for await (const piece of all()) {
      const stall = setTimeout(
        () => stream.destroy(new DomainError('SERVICE_UNAVAILABLE', `the client took no data for ${stallMs} ms`)),
        stallMs,
      );
      try {
        yield piece;
      } finally {
        clearTimeout(stall);
      }
    }
  }
  const stream = Readable.from(watched(), { objectMode: false });
  stream.on('close', () => {
    abort.abort();
    void chunks.return(undefined);
  });
  return stream;
}
