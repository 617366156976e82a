import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { type ListCommandAuditReply, MAX_PAGE_CURSOR_LENGTH, type Principal, ServicesClient, SUBJECTS } from '#common';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators.js';
import { AUDIT_LIST_SCHEMA } from './audit-openapi.js';
import { ListCommandAuditDto } from './dto/list-command-audit.dto.js';

/** The remote-command audit log: who ran what on which device, when, and its exit code. */
@ApiTags('audit')
@Controller('api/audit')
export class AuditController {
  constructor(private readonly services: ServicesClient) {}

  /** Newest first, in pages: `next_cursor` asks for the older entries; `truncated` says bytes cut the page short. */
  @Get('commands')
  @RequireScope('admin')
  @ApiOperation({ summary: 'Remote commands run on devices of the org, newest first, paged by cursor' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } })
  @ApiQuery({
    name: 'cursor',
    required: false,
    schema: { type: 'string', minLength: 1, maxLength: MAX_PAGE_CURSOR_LENGTH },
    description: 'next_cursor of the previous page, unchanged; anything else is a 400 naming cursor',
  })
  @ApiOkResponse({ schema: AUDIT_LIST_SCHEMA })
  commands(@CurrentPrincipal() principal: Principal, @Query() dto: ListCommandAuditDto): Promise<ListCommandAuditReply> {
    return this.services.call(SUBJECTS.audit.list, {
      org_id: principal.org_id,
      limit: dto.limit ?? 100,
      ...(dto.cursor === undefined ? {} : { cursor: dto.cursor }),
    });
  }
}
