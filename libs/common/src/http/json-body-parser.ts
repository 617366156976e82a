import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../errors.js';
import { jsonNestsDeeperThan } from '../validation/json-depth.js';

type Done = (error: Error | null, body?: unknown) => void;

/**
 * Reads a route's body on a fast path of its own (the route's URL as registered, and the bytes),
 * or answers undefined to leave it to the general parser. It must never refuse a body: what it
 * does not take, the general path checks and names.
 */
export type JsonFastPath = (routeUrl: string | undefined, body: Buffer) => unknown;

/**
 * The JSON body parser of every app: refuses a body nested deeper than `maxDepth` (one pass
 * over the bytes) before JSON.parse, so nothing recursive ever meets a 10,000-deep body; then
 * parses as Fastify does (refusing `__proto__`/`constructor` poisoning). An app's fast path
 * (ingest's plain numeric bodies) goes first.
 */
export function depthBoundedJsonParser(fastify: FastifyInstance, maxDepth: number, fastPath?: JsonFastPath) {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  return (request: unknown, body: Buffer, done: Done): void => {
    if (fastPath) {
      const read = fastPath((request as FastifyRequest).routeOptions?.url, body);
      if (read !== undefined) {
        done(null, read);
        return;
      }
    }
    if (jsonNestsDeeperThan(body, maxDepth)) {
      const message = `the body nests arrays/objects deeper than ${maxDepth} levels`;
      done(new DomainError('INVALID_BODY', message, [{ field: 'body', message }]));
      return;
    }
    parse(request as never, body as never, done as never);
  };
}
