import { Injectable } from '@nestjs/common';
import {
  DomainError,
  hashSecret,
  hasScope,
  type Principal,
  type SensorDescription,
  ServicesClient,
  SOURCE_ID_PATTERN,
  SUBJECTS,
  type VerifyDeviceReply,
  type VerifyKeyReply,
} from '#common';

const SOURCE_ID = new RegExp(SOURCE_ID_PATTERN);

export interface DeviceIdentity {
  orgId: string;
  sourceId: string;
  keyId?: string;
  platform: string | null;
  sensors: SensorDescription[];
  cameras: unknown[];
}

/** Authentication failures carry the close code the contract gives them. */
export class AuthFailure extends Error {
  constructor(
    message: string,
    readonly unavailable = false,
  ) {
    super(message);
  }
}

/** Checks `device_auth` and `browser_auth` frames against the pairing app. */
@Injectable()
export class Authenticator {
  constructor(private readonly services: ServicesClient) {}

  async device(message: Record<string, unknown>, pathOrg: string | undefined): Promise<DeviceIdentity> {
    const description = {
      platform: typeof message.platform === 'string' ? message.platform.slice(0, 128) : null,
      sensors: Array.isArray(message.sensors) ? (message.sensors.slice(0, 256) as SensorDescription[]) : [],
      cameras: Array.isArray(message.cameras) ? message.cameras.slice(0, 64) : [],
    };
    if (typeof message.device_token === 'string' && message.device_token) {
      const reply = await this.ask<VerifyDeviceReply>(SUBJECTS.devices.verify, { token_hash: hashSecret(message.device_token) });
      if (!reply.valid) throw new AuthFailure('device token is invalid or revoked');
      checkOrg(reply.org_id, pathOrg);
      // The token's source is the identity: a device cannot speak for another source.
      return { orgId: reply.org_id, sourceId: reply.source_id, ...description };
    }
    if (typeof message.api_key === 'string' && message.api_key) {
      const principal = await this.principal(message.api_key);
      if (!hasScope(principal.scopes, 'write')) throw new AuthFailure('a device authenticating with an API key needs the "write" scope');
      checkOrg(principal.org_id, pathOrg);
      if (typeof message.source_id !== 'string' || !SOURCE_ID.test(message.source_id)) {
        throw new AuthFailure('device_auth with an API key needs a valid "source_id"');
      }
      return { orgId: principal.org_id, sourceId: message.source_id, keyId: principal.key_id, ...description };
    }
    throw new AuthFailure('device_auth needs "device_token" (or a legacy "api_key")');
  }

  async browser(message: Record<string, unknown>, pathOrg: string | undefined): Promise<Principal> {
    if (typeof message.api_key !== 'string' || !message.api_key) throw new AuthFailure('browser_auth needs "api_key"');
    const principal = await this.principal(message.api_key);
    if (!hasScope(principal.scopes, 'read')) throw new AuthFailure('watching needs an API key with the "read" scope');
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
      throw new AuthFailure(`cannot check credentials now (${error instanceof DomainError ? error.message : String(error)}); retry later`, true);
    }
  }
}

function checkOrg(credentialOrg: string, pathOrg: string | undefined): void {
  if (pathOrg !== undefined && pathOrg !== credentialOrg) {
    throw new AuthFailure(`this credential belongs to another org than "${pathOrg}"`);
  }
}
