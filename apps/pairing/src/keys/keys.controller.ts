import { Controller, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  type CreateKeyRequest,
  DomainRpcExceptionFilter,
  type ListKeysReply,
  type ListKeysRequest,
  QUEUES,
  type RevokeKeyRequest,
  SUBJECTS,
  type VerifyKeyReply,
  type VerifyKeyRequest,
} from '#common';
import { requireOrg, requireString } from '../rpc-input.js';
import { KeysService } from './keys.service.js';

@Controller()
@UseFilters(DomainRpcExceptionFilter)
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  @MessagePattern(SUBJECTS.keys.verify, { queue: QUEUES.pairing })
  verify(@Payload() request: VerifyKeyRequest): Promise<VerifyKeyReply> {
    return this.keys.verify(String(request?.key_hash ?? ''));
  }

  @MessagePattern(SUBJECTS.keys.create, { queue: QUEUES.pairing })
  create(@Payload() request: CreateKeyRequest) {
    return this.keys.createForOrg(requireOrg(request), request.name, request.scopes);
  }

  @MessagePattern(SUBJECTS.keys.list, { queue: QUEUES.pairing })
  list(@Payload() request: ListKeysRequest): Promise<ListKeysReply> {
    return this.keys.list(requireOrg(request));
  }

  @MessagePattern(SUBJECTS.keys.revoke, { queue: QUEUES.pairing })
  revoke(@Payload() request: RevokeKeyRequest) {
    return this.keys.revoke(requireOrg(request), requireString(request, 'key_id', 64));
  }
}
