import { Injectable } from '@nestjs/common';
import {
  type BrowserAuthFrame,
  type DeviceAuthFrame,
  DomainError,
  hashSecret,
  hasScope,
  isSourceId,
  type Principal,
  quoteInput,
  type RealtimeErrorCode,
  type SensorDescription,
  ServicesClient,
  type SourcePairedReply,
  type SourcePairedRequest,
  SUBJECTS,
  type VerifyDeviceReply,
  type VerifyKeyReply,
} from '#common';

export interface DeviceIdentity {
  orgId: string;
  sourceId: string;
  keyId?: string;
  platform: string | null;
  sensors: SensorDescription[];
  cameras: unknown[];
}

/** Authentication failures carry the error code and the close code the contract gives them. */
export class AuthFailure extends Error {
  constructor(
    message: string,
    readonly code: RealtimeErrorCode = 'FORBIDDEN',
  ) {
    super(message);
  }

  /** The pairing app is unreachable: close 1013, try again later. */
  get unavailable(): boolean {
    return this.code === 'UNAVAILABLE';
  }
}

/** Any of these lets a browser watch: scopes nest, `control` includes the live view of what it controls. */
const WATCHING_SCOPES = ['read', 'control', 'admin'];

/** Checks `device_auth` and `browser_auth` frames against the pairing app. */
@Injectable()
export class Authenticator {
  constructor(private readonly services: ServicesClient) {}

  /** `frame` has passed the wire schema (credentials and description within bounds). */
  async device(frame: DeviceAuthFrame, pathOrg: string | undefined): Promise<DeviceIdentity> {
    const description = {
      platform: frame.platform ?? null,
      // The fleet keeps the description as the device gave it: the schema bounds it and checks each sensor is an object.
      sensors: (frame.sensors ?? []) as SensorDescription[],
      cameras: frame.cameras ?? [],
    };
    if (frame.device_token !== undefined) {
      const reply = await this.ask<VerifyDeviceReply>(SUBJECTS.devices.verify, { token_hash: hashSecret(frame.device_token) });
      if (!reply.valid) throw new AuthFailure('device token is invalid or revoked');
      checkOrg(reply.org_id, pathOrg);
      // The token's source is the identity: a device cannot speak for another source.
      return { orgId: reply.org_id, sourceId: reply.source_id, ...description };
    }
    if (frame.api_key !== undefined) {
      if (!isSourceId(frame.source_id)) throw new AuthFailure('device_auth with an API key needs a valid "source_id"', 'BAD_REQUEST');
      const principal = await this.principal(frame.api_key);
      if (!hasScope(principal.scopes, 'write')) throw new AuthFailure('a device authenticating with an API key needs the "write" scope');
      checkOrg(principal.org_id, pathOrg);
      // A device is its token: an API key may not sign in as a paired source (and knock it off).
      const request: SourcePairedRequest = { org_id: principal.org_id, source_id: frame.source_id };
      const { paired } = await this.ask<SourcePairedReply>(SUBJECTS.sources.paired, request);
      if (paired) throw new AuthFailure(`source ${quoteInput(frame.source_id)} is paired: only its device token can sign in as it`);
      return { orgId: principal.org_id, sourceId: frame.source_id, keyId: principal.key_id, ...description };
    }
    throw new AuthFailure('device_auth needs "device_token" (or a legacy "api_key")', 'BAD_REQUEST');
  }

  /** `frame` has passed the wire schema. */
  async browser(frame: BrowserAuthFrame, pathOrg: string | undefined): Promise<Principal> {
    const principal = await this.principal(frame.api_key);
    // hasScope('read') alone would refuse a control-only key; the scopes nest over sockets.
    if (!principal.scopes.some((scope) => WATCHING_SCOPES.includes(scope))) {
      throw new AuthFailure('watching needs an API key with the "read", "control" or "admin" scope');
    }
    checkOrg(principal.org_id, pathOrg);
    return principal;
  }

  private async principal(apiKey: string): Promise<Principal> {
    const reply = await this.ask<VerifyKeyReply>(SUBJECTS.keys.verify, { key_hash: hashSecret(apiKey) });
    if (!reply.valid) throw new AuthFailure('API key is invalid or revoked');
    return reply.principal;
  }

  private async ask<T>(subject: string, payload: unknown): Promise<T> {
    try {
      return await this.services.call<T>(subject, payload);
    } catch (error) {
      const reason = error instanceof DomainError ? error.message : String(error);
      throw new AuthFailure(`cannot check credentials now (${reason.slice(0, 200)}); retry later`, 'UNAVAILABLE');
    }
  }
}

function checkOrg(credentialOrg: string, pathOrg: string | undefined): void {
  if (pathOrg !== undefined && pathOrg !== credentialOrg) {
    throw new AuthFailure(`this credential belongs to another org than ${quoteInput(pathOrg)}`);
  }
}
