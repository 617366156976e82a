import { Controller, Logger, type OnModuleDestroy, type OnModuleInit, UseFilters } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import {
  BrokerConnection,
  DomainError,
  DomainRpcExceptionFilter,
  jsonLines,
  type ListSourcesRequest,
  QUEUES,
  type RevokeSourceRequest,
  type SourcePairedReply,
  type SourcePairedRequest,
  type SourceSeenEvent,
  SUBJECTS,
  serveChunks,
  type VerifyDeviceRequest,
} from '#common';
import { requireOrg, requireString } from '../rpc-input.js';
import { SourcesService } from './sources.service.js';

@Controller()
@UseFilters(DomainRpcExceptionFilter)
export class SourcesController implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SourcesController.name);
  private listSubscription?: { unsubscribe(): void };

  constructor(
    private readonly sources: SourcesService,
    private readonly broker: BrokerConnection,
  ) {}

  /**
   * The list grows with the fleet (20,000 sources are several MiB, past NATS's 1 MiB
   * max_payload), so it is a chunked stream of one source a line, read a page at a time.
   */
  onModuleInit(): void {
    this.listSubscription = serveChunks<ListSourcesRequest>(
      this.broker.nc,
      SUBJECTS.sources.listStream,
      QUEUES.pairing,
      (request) => this.listLines(requireOrg(request)),
      (error) => this.logger.error(`listing sources failed: ${(error as Error).message}`),
    );
  }

  onModuleDestroy(): void {
    this.listSubscription?.unsubscribe();
  }

  /** The operators' one-reply list: an org too large for one NATS message is told so, not left to time out. */
  @MessagePattern(SUBJECTS.sources.list, { queue: QUEUES.pairing })
  async list(@Payload() request: ListSourcesRequest) {
    const sources = await this.sources.list(requireOrg(request));
    const bytes = Buffer.byteLength(JSON.stringify(sources));
    // Room for the reply's envelope ({"response":{"sources":…},"id":…}).
    const room = (this.broker.nc.info?.max_payload ?? 1024 * 1024) - 1024;
    if (bytes > room) {
      throw new DomainError(
        'PAYLOAD_TOO_LARGE',
        `the ${sources.length} sources of this org (${bytes} bytes) do not fit in one NATS reply (max_payload); list them with GET /api/sources`,
      );
    }
    return { sources };
  }

  private async *listLines(orgId: string): AsyncGenerator<string> {
    for await (const page of this.sources.pages(orgId)) yield jsonLines(page);
  }

  @EventPattern<string>(SUBJECTS.sources.seen, { queue: QUEUES.pairing })
  async seen(@Payload() event: SourceSeenEvent): Promise<void> {
    if (typeof event?.org_id !== 'string' || typeof event.source_id !== 'string') return;
    await this.sources
      .seen(event)
      .catch((error: Error) => this.logger.warn(`could not record ${event.source_id} as seen: ${error.message}`));
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
