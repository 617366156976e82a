import type { Scope } from '../scopes.js';
import type { SensorDescription } from '../wire/device-frames.js';

export interface SourceView {
  source_id: string;
  org_id: string;
  name: string;
  platform: string | null;
  sensors: SensorDescription[];
  cameras: unknown[];
  online: boolean;
  created_at: string;
  last_seen: string | null;
}

/** `SUBJECTS.pairing.createCode` */
export interface CreatePairingCodeRequest {
  org_id: string;
  name?: string;
  /** Re-pairs this existing source: the code is bound to it, and its old token is revoked when the code is used. */
  source_id?: string;
}
export interface PairingCodeReply {
  code: string;
  expires_at: string;
  /** Only for a code that re-pairs an existing source. */
  source_id?: string;
}

/** `SUBJECTS.pairing.codeStatus` */
export interface PairingCodeStatusRequest {
  org_id: string;
  code: string;
}
export interface PairingCodeStatusReply {
  status: 'pending' | 'paired';
  source_id?: string;
  expires_at: string;
}

/** `SUBJECTS.pairing.complete`: what the device sends, exactly as the Python agent does, plus optional fields. */
export interface CompletePairingRequest {
  code: string;
  source_id?: string;
  name?: string;
  platform?: string;
}
export interface CompletePairingReply {
  device_token: string;
  source_id: string;
  org_id: string;
  source_name: string;
}

/** `SUBJECTS.devices.verify`: the token's SHA-256, never the token. */
export interface VerifyDeviceRequest {
  token_hash: string;
}
export type VerifyDeviceReply = { valid: true; org_id: string; source_id: string } | { valid: false };

export interface ListSourcesRequest {
  org_id: string;
}
export interface RevokeSourceRequest {
  org_id: string;
  source_id: string;
}
/** `SUBJECTS.sources.revoked` event. */
export interface SourceRevokedEvent {
  org_id: string;
  source_id: string;
}

/**
 * An org has at most `maxActivePerOrg` unrevoked keys: `keys.list` answers them all in one NATS
 * reply, and 500 of the largest (128-character names JSON writes at 6 bytes a character, every
 * scope) are under 500 KB, half of NATS's default 1 MiB max_payload.
 */
export const KEY_LIMITS = {
  maxActivePerOrg: 500,
  maxNameLength: 128,
} as const;

export interface CreateKeyRequest {
  org_id: string;
  name: string;
  scopes: Scope[];
}
export interface KeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  created_at: string;
  last_used_at: string | null;
}
export interface CreatedKey extends KeyView {
  /** Shown once. */
  key: string;
}
export interface ListKeysRequest {
  org_id: string;
}
/**
 * `SUBJECTS.keys.list` reply, oldest first. `truncated` is true when the org holds more keys than
 * fit in one reply (only an org that had more than KEY_LIMITS.maxActivePerOrg before that limit).
 */
export interface ListKeysReply {
  keys: KeyView[];
  truncated: boolean;
}
export interface RevokeKeyRequest {
  org_id: string;
  key_id: string;
}
