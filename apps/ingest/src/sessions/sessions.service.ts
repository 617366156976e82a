import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import {
  type CreateSessionReply,
  type CreateSessionRequest,
  DomainError,
  type GetSessionRequest,
  type ListSessionsReply,
  type ListSessionsRequest,
  type SessionDetail,
  type SessionView,
  type UpdateSessionRequest,
} from '#common';
import { PointsRepository } from '../points/points.repository.js';
import { SessionEntity } from './session.entity.js';
import { checkSessionId } from './session-id.js';

const ENDED = new Set(['completed', 'failed', 'aborted']);
const NOT_NULL_VIOLATION = '23502';

export function sessionView(entity: SessionEntity): SessionView {
  return {
    session_id: entity.id,
    org_id: entity.orgId,
    source_id: entity.sourceId,
    name: entity.name,
    status: entity.status,
    tags: entity.tags,
    metadata: entity.metadata,
    started_at: entity.startedAt.toISOString(),
    ended_at: entity.endedAt ? entity.endedAt.toISOString() : null,
    created_at: entity.createdAt.toISOString(),
    updated_at: entity.updatedAt.toISOString(),
  };
}

@Injectable()
export class SessionsService {
  private readonly sessions: Repository<SessionEntity>;

  constructor(
    @Inject(DataSource) dataSource: DataSource,
    private readonly points: PointsRepository,
  ) {
    this.sessions = dataSource.getRepository(SessionEntity);
  }

  /** Creates the session, or returns the existing one unchanged (`status: "ended"` ends it). */
  create(request: CreateSessionRequest): Promise<CreateSessionReply> {
    return refuseBadData(this.createSession(request));
  }

  update(request: UpdateSessionRequest): Promise<SessionView> {
    return refuseBadData(this.updateSession(request));
  }

  private async createSession(request: CreateSessionRequest): Promise<CreateSessionReply> {
    const id =
      request.session_id === undefined
        ? `session_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`
        : checkSessionId(request.session_id);
    const inserted = await this.sessions
      .createQueryBuilder()
      .insert()
      .values(<QueryDeepPartialEntity<SessionEntity>>{
        orgId: request.org_id,
        id,
        sourceId: request.source_id,
        name: request.name ?? id,
        status: 'active',
        tags: (request.tags ?? {}) as object,
        metadata: (request.metadata ?? {}) as object,
        startedAt: new Date(),
        endedAt: request.status === 'ended' ? new Date() : null,
      })
      .orIgnore()
      .returning('id')
      .execute();
    const created = inserted.raw.length > 0;
    if (!created && request.status === 'ended') {
      return { created, session: await this.updateSession({ org_id: request.org_id, session_id: id, status: 'completed' }) };
    }
    if (created && request.status === 'ended') await this.sessions.update({ orgId: request.org_id, id }, { status: 'completed' });
    return { created, session: sessionView(await this.find(request.org_id, id)) };
  }

  private async updateSession(request: UpdateSessionRequest): Promise<SessionView> {
    const session = await this.find(request.org_id, request.session_id);
    if (request.status) {
      session.status = request.status;
      session.endedAt = ENDED.has(request.status)
        ? request.ended_at
          ? new Date(request.ended_at)
          : (session.endedAt ?? new Date())
        : null;
    } else if (request.ended_at) {
      session.endedAt = new Date(request.ended_at);
    }
    if (request.name !== undefined) session.name = request.name;
    if (request.tags !== undefined) session.tags = request.tags;
    return sessionView(await this.sessions.save(session));
  }

  async list(request: ListSessionsRequest): Promise<ListSessionsReply> {
    const query = this.sessions
      .createQueryBuilder('s')
      .where('s.org_id = :org', { org: request.org_id })
      .orderBy("date_trunc('milliseconds', s.created_at)", 'DESC')
      .addOrderBy('s.id', 'DESC')
      .take(request.limit + 1);
    if (request.source_id) query.andWhere('s.source_id = :source', { source: request.source_id });
    if (request.status) query.andWhere('s.status = :status', { status: request.status });
    if (request.cursor) {
      const [createdAt, id] = decodeCursor(request.cursor);
      // Compared at millisecond precision, the precision the cursor carries.
      query.andWhere("(date_trunc('milliseconds', s.created_at), s.id) < (:createdAt::timestamptz, :id)", { createdAt, id });
    }
    const rows = await query.getMany();
    const page = rows.slice(0, request.limit);
    const last = page[page.length - 1];
    return {
      sessions: page.map(sessionView),
      next_cursor: rows.length > request.limit && last ? encodeCursor(last) : null,
    };
  }

  async detail(request: GetSessionRequest): Promise<SessionDetail> {
    const session = await this.find(request.org_id, request.session_id);
    // A large session's statistics scan its points: a read, bounded like queries (read pool).
    const stats = await this.points.sessionStats(request.org_id, request.session_id);
    return {
      ...sessionView(session),
      point_count: stats.pointCount,
      metrics: stats.metrics,
      first_point_at: stats.first,
      last_point_at: stats.last,
    };
  }

  async find(orgId: string, id: string): Promise<SessionEntity> {
    const session = await this.sessions.findOneBy({ orgId, id: checkSessionId(id) });
    if (!session) throw new DomainError('SESSION_NOT_FOUND', `session "${id}" not found`);
    return session;
  }
}

/**
 * A value PostgreSQL refuses (NUL in text or jsonb, a lone surrogate, a null name) is the caller's mistake:
 * 400, not a 500. The gateway refuses most of them first; this is the net under every caller.
 */
async function refuseBadData<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // 22xxx: a value PostgreSQL cannot hold; 23502: null where a value is required (`"name": null`).
    if (typeof code === 'string' && (code.startsWith('22') || code === NOT_NULL_VIOLATION)) {
      throw new DomainError(
        'BAD_REQUEST',
        `the session holds a value the database cannot store: ${(error as Error).message.slice(0, 200)}`,
      );
    }
    throw error;
  }
}

function encodeCursor(session: SessionEntity): string {
  return Buffer.from(JSON.stringify([session.createdAt.toISOString(), session.id])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    if (typeof createdAt === 'string' && typeof id === 'string' && !Number.isNaN(Date.parse(createdAt))) return [createdAt, id];
  } catch {
    // fall through
  }
  throw new DomainError('BAD_REQUEST', 'cursor is not one this API handed out', [{ field: 'cursor', message: 'invalid cursor' }]);
}
