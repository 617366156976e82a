/**
 * The partition an org's rules are evaluated in: FNV-1a of the org id's UTF-16 units, modulo the
 * partition count. Stable across processes and versions (it decides which instance owns an org).
 */
export function partitionOf(orgId: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < orgId.length; i++) {
    hash ^= orgId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}
