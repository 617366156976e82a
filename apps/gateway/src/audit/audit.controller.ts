import { Controller, Get, Query } from '@nestjs/common';
import { type ListCommandAuditReply, type Principal, ServicesClient, SUBJECTS } from '#common';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators.js';
import { PageLimitDto } from '../common/page-limit.dto.js';

/** The remote-command audit log: who ran what on which device, when, and its exit code. */
@Controller('api/audit')
export class AuditController {
  constructor(private readonly services: ServicesClient) {}

  /** Newest first; `truncated` says entries were left out to keep the answer under its byte bound. */
  @Get('commands')
  @RequireScope('admin')
  commands(@CurrentPrincipal() principal: Principal, @Query() dto: PageLimitDto): Promise<ListCommandAuditReply> {
    return this.services.call(SUBJECTS.audit.list, { org_id: principal.org_id, limit: dto.limit ?? 100 });
  }
}
