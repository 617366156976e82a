import type { NatsConnection } from '@nats-io/transport-node';
import { collectJsonLines, DomainError, type JsonLinesBounds, requestChunks, type SourceView, SUBJECTS } from '#common';

/**
 * What GET /api/sources takes from the pairing app at most (docs/api.md): the answer is held
 * whole to add presence, so it is bounded; an org past it gets a 503 naming the bound.
 */
export const SOURCE_LIST_BOUNDS: JsonLinesBounds = { maxEntries: 100_000, maxBytes: 64 * 1024 * 1024 };

/** The first chunk, like every other request/reply, comes within 2 s or the pairing app is unavailable. */
const FIRST_CHUNK_TIMEOUT_MS = 2000;

/**
 * The org's sources from the pairing app, oldest first, streamed in pieces under NATS's
 * max_payload (one source a line) and reassembled here.
 */
export async function requestSourceList(
  nc: NatsConnection,
  orgId: string,
  bounds: JsonLinesBounds = SOURCE_LIST_BOUNDS,
): Promise<SourceView[]> {
  try {
    return await readSourceList(nc, orgId, bounds);
  } catch (error) {
    // The pairing app fails this list only when it cannot read it (its database, a slow caller):
    // whatever else comes back on the reply subject is the documented 503, never a 500.
    if (error instanceof DomainError && error.status === 503) throw error;
    const code = error instanceof DomainError ? error.code : 'INTERNAL';
    throw new DomainError('SERVICE_UNAVAILABLE', `${SUBJECTS.sources.listStream} could not list the sources (${code}); retry later`);
  }
}

function readSourceList(nc: NatsConnection, orgId: string, bounds: JsonLinesBounds): Promise<SourceView[]> {
  return collectJsonLines(
    requestChunks(nc, SUBJECTS.sources.listStream, { org_id: orgId }, { firstChunkTimeoutMs: FIRST_CHUNK_TIMEOUT_MS }),
    `the source list from ${SUBJECTS.sources.listStream}`,
    bounds,
    (value) => (isSourceView(value, orgId) ? value : undefined),
  );
}

/** A line the pairing app sends: a source of this org, the fields GET /api/sources answers with. */
function isSourceView(value: unknown, orgId: string): value is SourceView {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const source = value as Record<string, unknown>;
  return (
    typeof source.source_id === 'string' &&
    source.org_id === orgId &&
    typeof source.name === 'string' &&
    (source.platform === null || typeof source.platform === 'string') &&
    Array.isArray(source.sensors) &&
    Array.isArray(source.cameras) &&
    typeof source.created_at === 'string' &&
    (source.last_seen === null || typeof source.last_seen === 'string')
  );
}
