import { jetstream } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { isInstanceId } from '../messages/realtime.js';

/**
 * More keys than this in the instances bucket is not a fleet of realtime instances but someone
 * writing the bucket: the list is not used (the gather then works as if there were none).
 */
export const MAX_LISTED_INSTANCES = 1000;

/** The bound bucket per connection and bucket name, bound once (a bucket that failed is bound again next time). */
const opened = new WeakMap<NatsConnection, Map<string, Promise<KV>>>();

function bucketOf(nc: NatsConnection, bucket: string): Promise<KV> {
  let buckets = opened.get(nc);
  if (!buckets) opened.set(nc, (buckets = new Map()));
  let kv = buckets.get(bucket);
  if (!kv) {
    // checkAPI off: binding sends nothing (no `$JS.API.INFO`), so reading needs only the listing's subjects.
    kv = new Kvm(jetstream(nc, { checkAPI: false })).open(bucket);
    buckets.set(bucket, kv);
    kv.catch(() => buckets.delete(bucket));
  }
  return kv;
}

/**
 * The realtime instances alive now: the keys of the instances bucket (BUCKETS.presenceInstances).
 * Each instance puts its key every PLEXUS_PRESENCE_RENEW_MS and deletes it when it stops cleanly;
 * the bucket's max age is the lease, so the server itself drops the key of an instance that died
 * once it has not been renewed for a lease. The values (`renewed_at`, the writer's clock) are not
 * read: the max age already says "renewed within the lease", by the server's clock, and a key
 * listing carries headers only. Keys that are not instance ids are skipped.
 *
 * Undefined when the bucket cannot be read (missing: no realtime instance ever started; a NATS
 * user without the permission; JetStream away) or holds more than MAX_LISTED_INSTANCES keys:
 * never throws. One key listing per call (an ephemeral ordered consumer that ends when it has
 * delivered the last key), no watch.
 */
export async function liveInstances(nc: NatsConnection, bucket: string): Promise<Set<string> | undefined> {
  try {
    const kv = await bucketOf(nc, bucket);
    const ids = new Set<string>();
    let seen = 0;
    // Leaving the loop early stops the listing's consumer.
    for await (const key of await kv.keys()) {
      if (++seen > MAX_LISTED_INSTANCES) return undefined;
      if (isInstanceId(key)) ids.add(key);
    }
    return ids;
  } catch {
    return undefined;
  }
}
