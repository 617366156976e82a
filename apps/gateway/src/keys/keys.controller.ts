import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import { ApiConflictResponse } from '@nestjs/swagger';
import { type CreatedKey, DomainError, KEY_LIMITS, type ListKeysReply, type Principal, SUBJECTS } from '#common';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators.js';
import { ServicesClient } from '#common';
import { CreateKeyDto } from './dto/create-key.dto.js';

@Controller('api/keys')
export class KeysController {
  constructor(private readonly services: ServicesClient) {}

  /** 201 with the key, shown this once; 409 when the org already has its most active keys. */
  @Post()
  @RequireScope('admin')
  @ApiConflictResponse({
    description: `CONFLICT: the org already has ${KEY_LIMITS.maxActivePerOrg} active (unrevoked) keys; revoke one first`,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  })
  async create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateKeyDto) {
    if (dto.org_id !== undefined && dto.org_id !== principal.org_id) {
      throw new DomainError('FORBIDDEN', 'an API key can only create keys for its own org');
    }
    return this.services.call<CreatedKey>(SUBJECTS.keys.create, { org_id: principal.org_id, name: dto.name, scopes: dto.scopes });
  }

  @Get()
  @RequireScope('admin')
  list(@CurrentPrincipal() principal: Principal): Promise<ListKeysReply> {
    return this.services.call(SUBJECTS.keys.list, { org_id: principal.org_id });
  }

  @Delete(':keyId')
  @RequireScope('admin')
  revoke(@CurrentPrincipal() principal: Principal, @Param('keyId') keyId: string) {
    return this.services.call(SUBJECTS.keys.revoke, { org_id: principal.org_id, key_id: keyId });
  }
}
