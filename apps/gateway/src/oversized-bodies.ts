import type { FastifyInstance } from 'fastify';
import { errorBody } from '#common';

/** Bodies up to this size are read and discarded before the 413, so the client sees the answer. */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * A body announced larger than the limit gets 413 — after the gateway has read (and dropped)
 * it. Answering first and closing with the body unread makes the kernel reset the connection,
 * and most clients then report "connection reset" instead of the 413.
 */
export function refuseOversizedBodies(fastify: FastifyInstance, limitBytes: number): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const length = Number(request.headers['content-length']);
    if (!(length > limitBytes)) {
      done();
      return;
    }
    const answer = () => {
      void reply
        .code(413)
        .header('connection', 'close')
        .send(errorBody(413, `request body of ${length} bytes is larger than the limit of ${limitBytes} bytes`));
    };
    if (length > DRAIN_LIMIT_BYTES) {
      answer();
      return;
    }
    request.raw
      .once('end', answer)
      .once('error', () => undefined)
      .resume();
  });
}
