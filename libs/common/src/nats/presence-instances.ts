import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { isInstanceId } from '../messages/realtime.js';
import { bucketStream } from '../subjects.js';

/**
 * More instance keys than this in the instances bucket is not a fleet of realtime instances but
 * someone writing the bucket: the list is not used (the gather then works as if there were none).
 */
export const MAX_LISTED_INSTANCES = 64;
/** A value larger than this is not one realtime wrote (`{"renewed_at":"<ISO time>"}`). */
const MAX_VALUE_BYTES = 1024;

/** The JetStream manager per connection, made once. checkAPI off: making it sends nothing (no `$JS.API.INFO`). */
const managers = new WeakMap<NatsConnection, Promise<JetStreamManager>>();

function managerOf(nc: NatsConnection): Promise<JetStreamManager> {
  let jsm = managers.get(nc);
  if (!jsm) managers.set(nc, (jsm = jetstreamManager(nc, { checkAPI: false })));
  return jsm;
}

/**
 * All a NATS user must be allowed to publish to read the bucket as `liveInstances` does (the
 * replies come to its `_INBOX.>`): read only, no `$KV.<bucket>.>`, no consumer.
 */
export function instancesReadSubjects(bucket: string): string[] {
  return [`$JS.API.STREAM.INFO.${bucketStream(bucket)}`, `$JS.API.STREAM.MSG.GET.${bucketStream(bucket)}`];
}

/**
 * The realtime instances alive now, as listed in the instances bucket (BUCKETS.presenceInstances).
 * Each instance puts its key every PLEXUS_PRESENCE_RENEW_MS and deletes it when it stops cleanly;
 * the bucket's max age is the lease, so the server itself drops the key of an instance that died
 * once it has gone a lease without renewal. (`renewed_at` in the value is the writer's clock: the
 * max age says "renewed within the lease" by the server's, without skew.)
 *
 * Read without a consumer, so nothing is left on the server: the stream's subjects (one
 * `$JS.API.STREAM.INFO`), then each instance key's last message (`$JS.API.STREAM.MSG.GET`, in
 * parallel) to leave out keys deleted by a clean stop (the delete marker stays until max age)
 * and values realtime does not write. A key that is not an instance id is skipped unread.
 *
 * Undefined when the bucket cannot be read (missing: no realtime instance ever started; a NATS
 * user without the permission; JetStream away) or lists more than MAX_LISTED_INSTANCES instance
 * keys. Never throws.
 */
export async function liveInstances(nc: NatsConnection, bucket: string): Promise<Set<string> | undefined> {
  try {
    const jsm = await managerOf(nc);
    const stream = bucketStream(bucket);
    const prefix = `$KV.${bucket}.`;
    const info = await jsm.streams.info(stream, { subjects_filter: `${prefix}>` });
    const keys = Object.keys(info.state.subjects ?? {})
      .filter((subject) => subject.startsWith(prefix))
      .map((subject) => subject.slice(prefix.length))
      .filter(isInstanceId);
    if (keys.length > MAX_LISTED_INSTANCES) return undefined;
    const alive = await Promise.all(
      keys.map(async (key) => {
        const last = await jsm.streams.getMessage(stream, { last_by_subj: `${prefix}${key}` });
        return last && isRenewal(last.header?.get('KV-Operation'), last.data) ? key : undefined;
      }),
    );
    return new Set(alive.filter((key) => key !== undefined));
  } catch {
    return undefined;
  }
}

/** A put (not a delete or purge marker) of a value as realtime writes it: `{"renewed_at": "<time>"}`. */
function isRenewal(operation: string | undefined, value: Uint8Array): boolean {
  if (operation || value.length === 0 || value.length > MAX_VALUE_BYTES) return false;
  try {
    const parsed = JSON.parse(Buffer.from(value).toString('utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null && typeof (parsed as { renewed_at?: unknown }).renewed_at === 'string';
  } catch {
    return false;
  }
}
