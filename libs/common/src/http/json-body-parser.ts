import type { FastifyInstance } from 'fastify';
import { DomainError } from '../errors.js';
import { jsonNestsDeeperThan } from '../validation/json-depth.js';

type Done = (error: Error | null, body?: unknown) => void;

/**
 * The JSON body parser of every app: refuses a body nested deeper than `maxDepth` (one pass
 * over the bytes) before JSON.parse, so nothing recursive ever meets a 10,000-deep body; then
 * parses as Fastify does (refusing `__proto__`/`constructor` poisoning).
 */
export function depthBoundedJsonParser(fastify: FastifyInstance, maxDepth: number) {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  return (request: unknown, body: Buffer, done: Done): void => {
    if (jsonNestsDeeperThan(body, maxDepth)) {
      const message = `the body nests arrays/objects deeper than ${maxDepth} levels`;
      done(new DomainError('INVALID_BODY', message, [{ field: 'body', message }]));
      return;
    }
    parse(request as never, body as never, done as never);
  };
}
