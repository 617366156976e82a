import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import { type CreatedKey, DomainError, type ListKeysReply, type Principal, SUBJECTS } from '#common';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators.js';
import { ServicesClient } from '#common';
import { CreateKeyDto } from './dto/create-key.dto.js';

@Controller('api/keys')
export class KeysController {
  constructor(private readonly services: ServicesClient) {}

  /** 201 with the key, shown this once. */
  @Post()
  @RequireScope('admin')
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
