import { Body, Controller, Delete, Get, HttpCode, Ip, Param, Post, Query } from '@nestjs/common';
import {
  BrokerConnection,
  type CompletePairingReply,
  onlineSources,
  DomainError,
  type PairingCodeReply,
  type PairingCodeStatusReply,
  type Principal,
  type SourceView,
  SUBJECTS,
} from '#common';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators.js';
import { config } from '../config.js';
import { ServicesClient } from '#common';
import { CompletePairingDto, CreatePairingCodeDto, PairingCodeQueryDto } from './dto/pairing.dto.js';
import { PairingAttempts } from './pairing-attempts.js';

@Controller('api/sources')
export class SourcesController {
  constructor(
    private readonly services: ServicesClient,
    private readonly attempts: PairingAttempts,
    private readonly broker: BrokerConnection,
  ) {}

  @Get()
  @RequireScope('read')
  async list(@CurrentPrincipal() principal: Principal): Promise<{ sources: SourceView[] }> {
    const [{ sources }, online] = await Promise.all([
      this.services.call<{ sources: SourceView[] }>(SUBJECTS.sources.list, { org_id: principal.org_id }),
      onlineSources(this.broker.nc, principal.org_id),
    ]);
    const connected = new Set(online.map((source) => source.source_id));
    return { sources: sources.map((source) => ({ ...source, online: connected.has(source.source_id) })) };
  }

  @Delete(':sourceId')
  @RequireScope('admin')
  revoke(@CurrentPrincipal() principal: Principal, @Param('sourceId') sourceId: string) {
    return this.services.call(SUBJECTS.sources.revoke, { org_id: principal.org_id, source_id: sourceId });
  }

  @Post('pair')
  @RequireScope('admin')
  createCode(@CurrentPrincipal() principal: Principal, @Body() dto: CreatePairingCodeDto): Promise<PairingCodeReply> {
    return this.services.call(SUBJECTS.pairing.createCode, { org_id: principal.org_id, name: dto.name });
  }

  @Get('pair')
  @RequireScope('admin')
  codeStatus(@CurrentPrincipal() principal: Principal, @Query() query: PairingCodeQueryDto): Promise<PairingCodeStatusReply> {
    return this.services.call(SUBJECTS.pairing.codeStatus, { org_id: principal.org_id, code: query.code });
  }

  /** No credential: the code is the credential. Wrong codes from one address are slowed, then refused. */
  @Post('pair/complete')
  @HttpCode(200)
  async complete(@Body() dto: CompletePairingDto, @Ip() address: string) {
    await this.attempts.admit(address);
    try {
      const paired = await this.services.call<CompletePairingReply>(SUBJECTS.pairing.complete, dto, 5000);
      return { ...paired, endpoint: config.publicUrl, ws_url: config.publicWsUrl };
    } catch (error) {
      if (error instanceof DomainError && (error.status === 404 || error.status === 410 || error.status === 400)) {
        this.attempts.recordFailure(address);
      }
      throw error;
    }
  }
}
