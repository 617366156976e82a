import { Controller, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { BrokerConnection, QUEUES, type QueryPointsRequest, serveChunks, SUBJECTS } from '#common';
import { IngestConfig } from '../config.js';
import { QueryService } from './query.service.js';

/** Answers `/api/query` for the gateway as a chunked stream: large answers never sit whole in memory. */
@Controller()
export class QueryController implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(QueryController.name);
  private subscription?: { unsubscribe(): void };

  constructor(
    private readonly query: QueryService,
    private readonly broker: BrokerConnection,
    private readonly config: IngestConfig,
  ) {}

  onModuleInit(): void {
    this.subscription = serveChunks<QueryPointsRequest>(
      this.broker.nc,
      SUBJECTS.query.points,
      QUEUES.ingest,
      (request) => this.query.points(request),
      (error) => this.logger.error(`query failed: ${(error as Error).message}`),
      { ackTimeoutMs: this.config.streamAckTimeoutMs },
    );
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }
}
