import { Controller, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  type CompletePairingRequest,
  type CreatePairingCodeRequest,
  DomainError,
  DomainRpcExceptionFilter,
  METRICS,
  type PairingCodeStatusRequest,
  QUEUES,
  SUBJECTS,
} from '#common';
import { optionalText, requireOrg, requireString } from '../rpc-input.js';
import { CodesService } from './codes.service.js';

@Controller()
@UseFilters(DomainRpcExceptionFilter)
export class CodesController {
  constructor(private readonly codes: CodesService) {}

  @MessagePattern(SUBJECTS.pairing.createCode, { queue: QUEUES.pairing })
  create(@Payload() request: CreatePairingCodeRequest) {
    return this.codes.create(requireOrg(request), optionalText(request, 'name', 256), request?.source_id);
  }

  @MessagePattern(SUBJECTS.pairing.codeStatus, { queue: QUEUES.pairing })
  status(@Payload() request: PairingCodeStatusRequest) {
    return this.codes.status(requireOrg(request), requireString(request, 'code', 16));
  }

  @MessagePattern(SUBJECTS.pairing.complete, { queue: QUEUES.pairing })
  async complete(@Payload() request: CompletePairingRequest) {
    try {
      const paired = await this.codes.complete(request);
      METRICS.pairings.inc({ outcome: 'paired' });
      return paired;
    } catch (error) {
      METRICS.pairings.inc({ outcome: error instanceof DomainError ? error.code.toLowerCase() : 'error' });
      throw error;
    }
  }
}
