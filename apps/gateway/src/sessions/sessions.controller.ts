import { Body, Controller, Get, Param, Patch, Post, Query, StreamableFile } from '@nestjs/common';
import { type Principal, WithStatus } from '#common';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators.js';
import { CreateSessionDto } from './dto/create-session.dto.js';
import { ExportSessionDto, ListSessionsDto } from './dto/list-sessions.dto.js';
import { UpdateSessionDto } from './dto/update-session.dto.js';
import { SessionsService } from './sessions.service.js';

const EXPORT_TYPES = { csv: 'text/csv; charset=utf-8', ndjson: 'application/x-ndjson' } as const;

@Controller('api/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Post()
  @RequireScope('write')
  async create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateSessionDto) {
    const { created, session } = await this.sessions.create(principal, dto);
    return new WithStatus(created ? 201 : 200, session);
  }

  @Patch(':sessionId')
  @RequireScope('write')
  update(@CurrentPrincipal() principal: Principal, @Param('sessionId') sessionId: string, @Body() dto: UpdateSessionDto) {
    return this.sessions.update(principal, sessionId, dto);
  }

  @Get()
  @RequireScope('read')
  list(@CurrentPrincipal() principal: Principal, @Query() dto: ListSessionsDto) {
    return this.sessions.list(principal, dto);
  }

  @Get(':sessionId')
  @RequireScope('read')
  get(@CurrentPrincipal() principal: Principal, @Param('sessionId') sessionId: string) {
    return this.sessions.get(principal, sessionId);
  }

  @Get(':sessionId/export')
  @RequireScope('read')
  async export(@CurrentPrincipal() principal: Principal, @Param('sessionId') sessionId: string, @Query() dto: ExportSessionDto) {
    const format = dto.format ?? 'csv';
    const stream = await this.sessions.export(principal, sessionId, format);
    const filename = `${sessionId.replace(/[^A-Za-z0-9._-]/g, '_')}.${format}`;
    return new StreamableFile(stream, { type: EXPORT_TYPES[format], disposition: `attachment; filename="${filename}"` });
  }
}
