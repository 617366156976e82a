import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import {
  BrokerConnection,
  type CreateSessionReply,
  type ExportFormat,
  type ListSessionsReply,
  type Principal,
  readableChunks,
  type SessionDetail,
  type SessionView,
  SUBJECTS,
} from '#common';
import { ServicesClient } from '#common';
import type { CreateSessionDto } from './dto/create-session.dto.js';
import type { ListSessionsDto } from './dto/list-sessions.dto.js';
import type { UpdateSessionDto } from './dto/update-session.dto.js';
import { GatewayConfig } from '../config.js';
import { QueryConcurrency } from '../query/query-concurrency.js';

@Injectable()
export class SessionsService {
  constructor(
    private readonly services: ServicesClient,
    private readonly broker: BrokerConnection,
    private readonly concurrency: QueryConcurrency,
    private readonly config: GatewayConfig,
  ) {}

  create(principal: Principal, dto: CreateSessionDto): Promise<CreateSessionReply> {
    return this.services.call(SUBJECTS.sessions.create, { ...dto, org_id: principal.org_id });
  }

  update(principal: Principal, sessionId: string, dto: UpdateSessionDto): Promise<SessionView> {
    return this.services.call(SUBJECTS.sessions.update, { ...dto, org_id: principal.org_id, session_id: sessionId });
  }

  list(principal: Principal, dto: ListSessionsDto): Promise<ListSessionsReply> {
    return this.services.call(SUBJECTS.sessions.list, { ...dto, limit: dto.limit ?? 100, org_id: principal.org_id });
  }

  get(principal: Principal, sessionId: string): Promise<SessionDetail> {
    return this.services.call(SUBJECTS.sessions.get, { org_id: principal.org_id, session_id: sessionId }, 10_000);
  }

  /**
   * The export as a stream; the first chunk is awaited so an unknown session is a 404, not a broken
   * 200. It counts against the key's cap of queries and exports in flight (429 beyond it).
   */
  async export(principal: Principal, sessionId: string, format: ExportFormat): Promise<Readable> {
    return this.concurrency.stream(principal, () =>
      readableChunks(
        this.broker.nc,
        SUBJECTS.sessions.export,
        { org_id: principal.org_id, session_id: sessionId, format },
        {},
        { stallTimeoutMs: this.config.streamStallTimeoutMs },
      ),
    );
  }
}
