import { Readable } from 'node:stream';
import { createInbox, headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { DomainError } from '../errors.js';

/**
 * Streams a large answer (an export, a long query) over NATS with flow control.
 * The caller publishes a request whose reply subject is a fresh inbox; the responder
 * sends one chunk at a time as a request to that inbox and waits for the caller's ack,
 * so a slow HTTP client slows the database cursor instead of filling memory.
 */
const KIND = 'Plexus-Chunk';
const MAX_CHUNK_BYTES = 256 * 1024;

export interface ChunkStreamOptions {
  /** How long to wait for the first chunk (no responder → 503). */
  firstChunkTimeoutMs?: number;
  /** How long the responder waits for the caller's ack before giving up. */
  ackTimeoutMs?: number;
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
  let timer: NodeJS.Timeout | undefined;
  try {
    nc.publish(subject, JSON.stringify(payload), { reply: inbox });
    let first = true;
    for (;;) {
      const next = iterator.next();
      const result = first
        ? await Promise.race([
            next,
            new Promise<never>((_, reject) => {
              timer = setTimeout(
                () => reject(new DomainError('SERVICE_UNAVAILABLE', `no answer from ${subject}; retry later`)),
                options.firstChunkTimeoutMs ?? 5000,
              );
            }),
          ])
        : await next;
      clearTimeout(timer);
      first = false;
      if (result.done) return;
      const msg: Msg = result.value;
      const kind = msg.headers?.get(KIND);
      if (kind === 'error') {
        msg.respond();
        throw DomainError.fromWire(msg.json()) ?? new DomainError('INTERNAL', 'stream failed');
      }
      if (kind === 'end') {
        msg.respond();
        return;
      }
      yield msg.data;
      msg.respond();
    }
  } finally {
    clearTimeout(timer);
    sub.unsubscribe();
  }
}

/** Responder side: sends every chunk (batched up to ~256 KiB), then the end marker. */
export async function replyChunks(
  nc: NatsConnection,
  inbox: string,
  chunks: AsyncIterable<string>,
  options: ChunkStreamOptions = {},
): Promise<void> {
  const ackTimeout = options.ackTimeoutMs ?? 30_000;
  const send = async (kind: 'data' | 'end' | 'error', body: string) => {
    const h = headers();
    h.set(KIND, kind);
    await nc.request(inbox, body, { timeout: ackTimeout, headers: h });
  };
  try {
    let pending = '';
    for await (const chunk of chunks) {
      pending += chunk;
      if (pending.length >= MAX_CHUNK_BYTES) {
        await send('data', pending);
        pending = '';
      }
    }
    if (pending) await send('data', pending);
    await send('end', '');
  } catch (error) {
    const wire = error instanceof DomainError ? error.toWire() : new DomainError('INTERNAL', 'the answer failed midway').toWire();
    await send('error', JSON.stringify(wire)).catch(() => undefined);
    if (!(error instanceof DomainError)) throw error;
  }
}

/**
 * Serves a chunked answer on `subject` (queue group: one responder per request).
 * The handler returns the answer's text pieces; errors reach the caller as wire errors.
 */
export function serveChunks<T>(
  nc: NatsConnection,
  subject: string,
  queue: string,
  handler: (request: T) => AsyncIterable<string>,
  onError: (error: unknown) => void,
): { unsubscribe(): void } {
  return nc.subscribe(subject, {
    queue,
    callback: (error, msg) => {
      if (error || !msg.reply) return;
      let request: T;
      try {
        request = msg.json<T>();
      } catch {
        return;
      }
      replyChunks(nc, msg.reply, handler(request)).catch(onError);
    },
  });
}

/**
 * A chunked answer as a Node stream for an HTTP reply. The first chunk is awaited, so an
 * error (unknown session, no responder) surfaces as its status code rather than a broken 200.
 */
export async function readableChunks(
  nc: NatsConnection,
  subject: string,
  payload: unknown,
  wrap: { prefix?: string; suffix?: string } = {},
): Promise<Readable> {
  const chunks = requestChunks(nc, subject, payload);
  const first = await chunks.next();
  async function* all(): AsyncGenerator<Uint8Array | string> {
    if (wrap.prefix) yield wrap.prefix;
    if (!first.done) {
      yield first.value;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
    }
    if (wrap.suffix) yield wrap.suffix;
  }
  const stream = Readable.from(all(), { objectMode: false });
  stream.on('close', () => void chunks.return(undefined));
  return stream;
}
