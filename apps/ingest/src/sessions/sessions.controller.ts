import { Controller, Logger, type OnModuleDestroy, type OnModuleInit, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  BrokerConnection,
  type CreateSessionRequest,
  DomainRpcExceptionFilter,
  type ExportSessionRequest,
  type GetSessionRequest,
  type ListSessionsRequest,
  QUEUES,
  serveChunks,
  SUBJECTS,
  type UpdateSessionRequest,
} from '#common';
import { IngestConfig } from '../config.js';
import { SessionExportService } from './session-export.service.js';
import { SessionsService } from './sessions.service.js';

@Controller()
@UseFilters(DomainRpcExceptionFilter)
export class SessionsController implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SessionsController.name);
  private exportSubscription?: { unsubscribe(): void };

  constructor(
    private readonly sessions: SessionsService,
    private readonly exporter: SessionExportService,
    private readonly broker: BrokerConnection,
    private readonly config: IngestConfig,
  ) {}

  @MessagePattern(SUBJECTS.sessions.create, { queue: QUEUES.ingest })
  create(@Payload() request: CreateSessionRequest) {
    return this.sessions.create(request);
  }

  @MessagePattern(SUBJECTS.sessions.update, { queue: QUEUES.ingest })
  update(@Payload() request: UpdateSessionRequest) {
    return this.sessions.update(request);
  }

  @MessagePattern(SUBJECTS.sessions.list, { queue: QUEUES.ingest })
  list(@Payload() request: ListSessionsRequest) {
    return this.sessions.list(request);
  }

  @MessagePattern(SUBJECTS.sessions.get, { queue: QUEUES.ingest })
  get(@Payload() request: GetSessionRequest) {
    return this.sessions.detail(request);
  }

  /** Exports are chunked streams with flow control, which Nest's request/reply does not do. */
  onModuleInit(): void {
    this.exportSubscription = serveChunks<ExportSessionRequest>(
      this.broker.nc,
      SUBJECTS.sessions.export,
      QUEUES.ingest,
      (request) => this.exporter.export(request),
      (error) => this.logger.error(`session export failed: ${(error as Error).message}`),
      { ackTimeoutMs: this.config.streamAckTimeoutMs },
    );
  }

  onModuleDestroy(): void {
    this.exportSubscription?.unsubscribe();
  }
}
