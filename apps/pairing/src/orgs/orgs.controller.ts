import { Controller, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  type CreateOrgRequest,
  type DisableOrgRequest,
  DomainRpcExceptionFilter,
  type ListOrgsPage,
  type ListOrgsRequest,
  QUEUES,
  SUBJECTS,
} from '#common';
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

  /** ListOrgsRequest → ListOrgsPage: paged, since a reply over NATS's max_payload never arrives. */
  @MessagePattern(SUBJECTS.orgs.list, { queue: QUEUES.pairing })
  list(@Payload() request: ListOrgsRequest): Promise<ListOrgsPage> {
    return this.orgs.list(typeof request === 'object' && request !== null ? request.cursor : undefined);
  }

  @MessagePattern(SUBJECTS.orgs.disable, { queue: QUEUES.pairing })
  disable(@Payload() request: DisableOrgRequest) {
    return this.orgs.disable(requireString(request, 'id', 63));
  }
}
