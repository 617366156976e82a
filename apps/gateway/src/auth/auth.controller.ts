import { Body, Controller, Get, Headers, HttpCode, Post } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DomainError, hashSecret, type KeyRevokedEvent, type OrgDisabledEvent, SUBJECTS, type VerifyDeviceReply } from '#common';
import { ServicesClient } from '#common';
import { VerifyDeviceDto } from '../sources/dto/pairing.dto.js';
import { apiKeyFrom } from './api-key.guard.js';
import { KeyVerifier } from './key-verifier.service.js';

@Controller()
export class AuthController {
  constructor(
    private readonly verifier: KeyVerifier,
    private readonly services: ServicesClient,
  ) {}

  @Get('api/auth/verify-key')
  async verifyKey(@Headers() headers: Record<string, string | undefined>) {
    const apiKey = apiKeyFrom(headers);
    if (!apiKey) throw new DomainError('UNAUTHORIZED', 'missing API key: send it in the x-api-key header');
    const principal = await this.verifier.verify(apiKey);
    return { valid: true, org_id: principal.org_id, org_name: principal.org_name, key_id: principal.key_id, scopes: principal.scopes };
  }

  /** No cache: a revoked device token fails here the moment its source is deleted. */
  @Post('api/auth/verify-device')
  @HttpCode(200)
  async verifyDevice(@Body() dto: VerifyDeviceDto) {
    const reply = await this.services.call<VerifyDeviceReply>(SUBJECTS.devices.verify, { token_hash: hashSecret(dto.device_token) });
    if (!reply.valid) throw new DomainError('UNAUTHORIZED', 'device token is invalid or revoked');
    return reply;
  }

  /** Every gateway instance hears this (no queue group) and forgets the key at once. */
  @EventPattern<string>(SUBJECTS.keys.revoked)
  keyRevoked(@Payload() event: KeyRevokedEvent): void {
    this.verifier.dropKey(event.key_id);
  }

  /** Every gateway instance hears this and forgets the disabled org's keys at once. */
  @EventPattern<string>(SUBJECTS.orgs.disabled)
  orgDisabled(@Payload() event: OrgDisabledEvent): void {
    if (typeof event?.org_id === 'string') this.verifier.dropOrg(event.org_id);
  }
}
