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
import { GatewayConfig } from '../config.js';
import { ServicesClient } from '#common';
import { CompletePairingDto, CreatePairingCodeDto, PairingCodeQueryDto } from './dto/pairing.dto.js';
import { PairingAttempts } from './pairing-attempts.js';
import { requestSourceList } from './source-list.js';

@Controller('api/sources')
export class SourcesController {
  constructor(
    private readonly services: ServicesClient,
    private readonly attempts: PairingAttempts,
    private readonly broker: BrokerConnection,
    private readonly config: GatewayConfig,
  ) {}

  @Get()
  @RequireScope('read')
  async list(@CurrentPrincipal() principal: Principal): Promise<{ sources: SourceView[] }> {
    const [sources, online] = await Promise.all([
      requestSourceList(this.broker.nc, principal.org_id),
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
    return this.services.call(SUBJECTS.pairing.createCode, { org_id: principal.org_id, name: dto.name, source_id: dto.source_id });
  }

  @Get('pair')
  @RequireScope('admin')
  codeStatus(@CurrentPrincipal() principal: Principal, @Query() query: PairingCodeQueryDto): Promise<PairingCodeStatusReply> {
    return this.services.call(SUBJECTS.pairing.codeStatus, { org_id: principal.org_id, code: query.code });
  }

  /**
   * No credential: the code is the credential. Each attempt takes a slot of the guess limit
   * before the pairing app is asked, and gives it back only if the code was not wrong.
   */
  @Post('pair/complete')
  @HttpCode(200)
  async complete(@Body() dto: CompletePairingDto, @Ip() address: string) {
    const attempt = this.attempts.admit(address);
    let failed = false;
    try {
      if (attempt.delayMs) await new Promise((resolve) => setTimeout(resolve, attempt.delayMs));
      const paired = await this.services.call<CompletePairingReply>(SUBJECTS.pairing.complete, dto, 5000);
      return { ...paired, endpoint: this.config.publicUrl, ws_url: this.config.publicWsUrl };
    } catch (error) {
      failed = error instanceof DomainError && WRONG_CODE_STATUSES.has(error.status);
      throw error;
    } finally {
      this.attempts.settle(attempt, failed);
    }
  }
}

/** Answers that mean the caller's code (or its use of it) was wrong: they count against its address. */
const WRONG_CODE_STATUSES = new Set([400, 404, 409, 410]);
