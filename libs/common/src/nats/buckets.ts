import { type KV, type KvOptions, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

/**
 * Opens a key-value bucket, creating it if it is missing. Several instances start at once: one
 * that loses the race to create it opens the one the other made (its settings are the bucket's).
 */
export async function openBucket(nc: NatsConnection, name: string, options: Partial<KvOptions>): Promise<KV> {
  const kvm = new Kvm(nc);
  try {
    return await kvm.create(name, options);
  } catch (error) {
    if (!/already in use|exists/i.test(String((error as Error).message))) throw error;
    return kvm.open(name);
  }
}
