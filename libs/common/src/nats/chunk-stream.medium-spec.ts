import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DomainError } from '../errors.js';
import { readableChunks, safeCut, serveChunks } from './chunk-stream.js';

// Against the shared NATS server, on subjects of this run only.
const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';
const prefix = `chunktest_${randomBytes(4).toString('hex')}`;
let nc: NatsConnection;
const subscriptions: Array<{ unsubscribe(): void }> = [];
const errors: unknown[] = [];

beforeAll(async () => {
  nc = await connect({ servers: NATS_URL });
});

afterAll(async () => {
  for (const sub of subscriptions) sub.unsubscribe();
  await nc.close();
});

function serve(name: string, handler: (request: { n?: number }) => AsyncIterable<string>, ackTimeoutMs = 15_000): string {
  const subject = `${prefix}.${name}`;
  subscriptions.push(serveChunks(nc, subject, 'q', handler, (error) => errors.push(error), { ackTimeoutMs }));
  return subject;
}

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  let out = '';
  for await (const piece of stream) out += typeof piece === 'string' ? piece : Buffer.from(piece as Uint8Array).toString('utf8');
  return out;
}

describe('chunk streams', () => {
  it('turns an unexpected error before the first chunk into a status for the caller, not a hang or a crash', async () => {
    // eslint-disable-next-line require-yield -- a responder that fails before its first chunk
    const subject = serve('boom', async function* () {
      throw new Error('relation "points" does not exist');
    });
    const failure = await readableChunks(nc, subject, {}).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DomainError);
    expect((failure as DomainError).status).toBe(500);
    expect((failure as DomainError).message).not.toContain('relation');
  });

  it('passes a DomainError of the responder through with its code', async () => {
    // eslint-disable-next-line require-yield -- a responder that fails before its first chunk
    const subject = serve('bad', async function* () {
      throw new DomainError('BAD_REQUEST', 'session_id must be printable');
    });
    await expect(readableChunks(nc, subject, {})).rejects.toMatchObject({ code: 'BAD_REQUEST', status: 400 });
  });

  it('answers a request that is not JSON with BAD_REQUEST', async () => {
    const subject = serve('json', async function* () {
      yield 'never';
    });
    const { createInbox } = await import('@nats-io/transport-node');
    const inbox = createInbox();
    const sub = nc.subscribe(inbox, { max: 2 });
    nc.publish(subject, 'not json', { reply: inbox });
    const kinds: string[] = [];
    for await (const msg of sub) {
      kinds.push(msg.headers?.get('Plexus-Chunk') ?? '');
      if (kinds.length === 2) expect(msg.json()).toMatchObject({ code: 'BAD_REQUEST' });
      msg.respond();
    }
    expect(kinds).toEqual(['start', 'error']);
  });

  it('waits for first data longer than the no-responder timeout once a responder has said start', async () => {
    const subject = serve('slow', async function* () {
      await new Promise((resolve) => setTimeout(resolve, 600));
      yield 'late but fine';
    });
    const body = await text(await readableChunks(nc, subject, {}, {}, { firstChunkTimeoutMs: 200 }));
    expect(body).toBe('late but fine');
  });

  it('answers 503 quickly when nobody serves the subject', async () => {
    await expect(readableChunks(nc, `${prefix}.nobody`, {}, {}, { firstChunkTimeoutMs: 200 })).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
    });
  });

  it('sends an answer bigger than NATS max_payload in pieces, keeping surrogate pairs whole', async () => {
    const piece = 'a😀'.repeat(300_000); // one "database fetch" of 900,000 UTF-16 units
    const subject = serve('big', async function* () {
      yield '[';
      yield piece;
      yield ']';
    });
    const body = await text(await readableChunks(nc, subject, {}));
    expect(body.length).toBe(piece.length + 2);
    expect(body === `[${piece}]`).toBe(true);
  });

  it('closes the responder at once when the caller stops reading early (its cursor is released)', async () => {
    let closed = false;
    const subject = serve(
      'early',
      async function* () {
        try {
          for (let i = 0; ; i++) yield `${i}`.padEnd(300_000, '.');
        } finally {
          closed = true;
        }
      },
      60_000,
    );
    const stream = await readableChunks(nc, subject, {});
    stream.destroy();
    const started = Date.now();
    while (!closed && Date.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 20));
    // Well before the 60 s ack timeout: the pending chunk was answered "cancel".
    expect(closed).toBe(true);
  });

  it('cuts at a safe place', () => {
    expect(safeCut('ab', 1)).toBe(1);
    expect(safeCut('a😀', 2)).toBe(1);
  });
});
