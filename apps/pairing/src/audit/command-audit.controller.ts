import { Controller, Logger, UseFilters } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import {
  type CommandFinishedEvent,
  type CommandStartedRequest,
  DomainRpcExceptionFilter,
  type ListCommandAuditReply,
  type ListCommandAuditRequest,
  QUEUES,
  SUBJECTS,
} from '#common';
import { requireOrg, requireString } from '../rpc-input.js';
import { CommandAuditService } from './command-audit.service.js';

@Controller()
@UseFilters(DomainRpcExceptionFilter)
export class CommandAuditController {
  private readonly logger = new Logger(CommandAuditController.name);

  constructor(private readonly audit: CommandAuditService) {}

  @MessagePattern(SUBJECTS.audit.commandStarted, { queue: QUEUES.pairing })
  started(@Payload() request: CommandStartedRequest) {
    requireOrg(request);
    for (const field of ['key_id', 'source_id', 'command_id', 'command']) requireString(request, field, 8192);
    return this.audit.started(request);
  }

  @EventPattern<string>(SUBJECTS.audit.commandFinished, { queue: QUEUES.pairing })
  async finished(@Payload() event: CommandFinishedEvent): Promise<void> {
    await this.audit.finished(event).catch((error: Error) => this.logger.warn(`could not record a command's end: ${error.message}`));
  }

  /** ListCommandAuditRequest → ListCommandAuditReply: paged by `cursor`, each page bounded in bytes. */
  @MessagePattern(SUBJECTS.audit.list, { queue: QUEUES.pairing })
  list(@Payload() request: ListCommandAuditRequest): Promise<ListCommandAuditReply> {
    const limit = Number.isInteger(request?.limit) && (request.limit as number) > 0 ? Math.min(request.limit as number, 1000) : 100;
    return this.audit.list(requireOrg(request), limit, request.cursor);
  }
}
