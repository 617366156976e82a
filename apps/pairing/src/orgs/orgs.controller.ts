import { Controller, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { type CreateOrgRequest, type DisableOrgRequest, DomainRpcExceptionFilter, QUEUES, SUBJECTS } from '#common';
import { requireString } from '../rpc-input.js';
import { OrgsService } from './orgs.service.js';

@Controller()
@UseFilters(DomainRpcExceptionFilter)
export class OrgsController {
  constructor(private readonly orgs: OrgsService) {}

  @MessagePattern(SUBJECTS.orgs.create, { queue: QUEUES.pairing })
  create(@Payload() request: CreateOrgRequest) {
    return this.orgs.create(request?.id, request?.name);
  }

  @MessagePattern(SUBJECTS.orgs.list, { queue: QUEUES.pairing })
  async list() {
    return { orgs: await this.orgs.list() };
  }

  @MessagePattern(SUBJECTS.orgs.disable, { queue: QUEUES.pairing })
  disable(@Payload() request: DisableOrgRequest) {
    return this.orgs.disable(requireString(request, 'id', 63));
  }
}
