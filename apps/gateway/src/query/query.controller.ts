import { Controller, Get, Query, StreamableFile } from '@nestjs/common';
import type { Principal } from '#common';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators.js';
import { QueryPointsDto } from './dto/query-points.dto.js';
import { QueryService } from './query.service.js';

@Controller('api/query')
export class QueryController {
  constructor(private readonly query: QueryService) {}

  @Get()
  @RequireScope('read')
  async points(@CurrentPrincipal() principal: Principal, @Query() dto: QueryPointsDto) {
    return new StreamableFile(await this.query.points(principal, dto), { type: 'application/json; charset=utf-8' });
  }
}
