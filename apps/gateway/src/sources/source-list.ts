import type { NatsConnection } from '@nats-io/transport-node';
import { collectJsonLines, type JsonLinesBounds, requestChunks, type SourceView, SUBJECTS } from '#common';

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
export function requestSourceList(nc: NatsConnection, orgId: string, bounds: JsonLinesBounds = SOURCE_LIST_BOUNDS): Promise<SourceView[]> {
  return collectJsonLines(
    requestChunks(nc, SUBJECTS.sources.list, { org_id: orgId }, { firstChunkTimeoutMs: FIRST_CHUNK_TIMEOUT_MS }),
    `the source list from ${SUBJECTS.sources.list}`,
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
