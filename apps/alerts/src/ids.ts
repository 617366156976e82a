import { randomInt } from 'node:crypto';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `rule_…`, `whk_…`, `alr_…`, `dlv_…`: the kind, then 20 random base62 characters (about 119 bits). */
export function newId(kind: 'rule' | 'whk' | 'alr' | 'dlv'): string {
  let id = `${kind}_`;
  for (let i = 0; i < 20; i++) id += BASE62[randomInt(BASE62.length)];
  return id;
}
