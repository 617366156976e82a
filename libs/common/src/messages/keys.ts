import type { Scope } from '../scopes.js';

/** `SUBJECTS.keys.verify` request: the key's SHA-256, never the key itself. */
export interface VerifyKeyRequest {
  key_hash: string;
}

/** `SUBJECTS.keys.verify` reply: `valid: false` for unknown or revoked keys. */
export type VerifyKeyReply = { valid: true; principal: Principal } | { valid: false };

/** Who a request acts as, once its API key is verified. */
export interface Principal {
  org_id: string;
  /** The org's display name (the dashboard shows it). */
  org_name: string;
  key_id: string;
  scopes: Scope[];
}

/** `SUBJECTS.keys.revoked` event. */
export interface KeyRevokedEvent {
  org_id: string;
  key_id: string;
}
