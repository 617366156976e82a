import { Controller, Logger, UseFilters } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import {
  DomainRpcExceptionFilter,
  type ListSourcesRequest,
  QUEUES,
  type RevokeSourceRequest,
  type SourcePairedReply,
  type SourcePairedRequest,
  type SourceSeenEvent,
  SUBJECTS,
  type VerifyDeviceRequest,
} from '#common';
import { requireOrg, requireString } from '../rpc-input.js';
import { SourcesService } from './sources.service.js';

@Controller()
@UseFilters(DomainRpcExceptionFilter)
export class SourcesController {
  private readonly logger = new Logger(SourcesController.name);

  constructor(private readonly sources: SourcesService) {}

  @EventPattern<string>(SUBJECTS.sources.seen, { queue: QUEUES.pairing })
  async seen(@Payload() event: SourceSeenEvent): Promise<void> {
    if (typeof event?.org_id !== 'string' || typeof event.source_id !== 'string') return;
    await this.sources
      .seen(event)
      .catch((error: Error) => this.logger.warn(`could not record ${event.source_id} as seen: ${error.message}`));
  }

  @MessagePattern(SUBJECTS.sources.list, { queue: QUEUES.pairing })
  async list(@Payload() request: ListSourcesRequest) {
    return { sources: await this.sources.list(requireOrg(request)) };
  }

  @MessagePattern(SUBJECTS.sources.revoke, { queue: QUEUES.pairing })
  revoke(@Payload() request: RevokeSourceRequest) {
    return this.sources.revoke(requireOrg(request), requireString(request, 'source_id'));
  }

  /** Realtime asks before letting an API key sign in as a source: a paired source is its token's alone. */
  @MessagePattern(SUBJECTS.sources.paired, { queue: QUEUES.pairing })
  async paired(@Payload() request: SourcePairedRequest): Promise<SourcePairedReply> {
    return { paired: await this.sources.isPaired(requireOrg(request), requireString(request, 'source_id', 128)) };
  }

  @MessagePattern(SUBJECTS.devices.verify, { queue: QUEUES.pairing })
  verify(@Payload() request: VerifyDeviceRequest) {
    return this.sources.verifyDevice(String(request?.token_hash ?? ''));
  }
}
