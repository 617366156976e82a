import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  type CommandAuditEntry,
  type CommandFinishedEvent,
  type CommandStartedRequest,
  decodePageCursor,
  DomainError,
  encodePageCursor,
  fitInBytes,
  type ListCommandAuditReply,
  type PagePosition,
  REPLY_BUDGET_BYTES,
} from '#common';

/** The audit log of remote commands. Rows are written before the device hears the command. */
@Injectable()
export class CommandAuditService {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async started(request: CommandStartedRequest): Promise<{ audit_id: string }> {
    const [row] = await this.dataSource.query(
      `INSERT INTO command_audit (org_id, key_id, source_id, command_id, command) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [request.org_id, request.key_id, request.source_id, request.command_id, request.command.slice(0, 8192)],
    );
    return { audit_id: row.id };
  }

  async finished(event: CommandFinishedEvent): Promise<void> {
    await this.dataSource.query(
      `UPDATE command_audit SET finished_at = now(), exit_code = $4
        WHERE org_id = $1 AND source_id = $2 AND command_id = $3 AND finished_at IS NULL`,
      [event.org_id, event.source_id, event.command_id, event.exit_code],
    );
  }

  /**
   * A page of the org's audit log, newest first (started_at, then id): the `limit` entries after
   * `cursor` (from the newest without one), as many of them as fit in one reply's budget, whole
   * entries only. An entry's texts take at least their UTF-8 bytes on the wire, so the database
   * sends only the entries whose running total of those stays within the budget: a page of 1,000
   * entries of 8 KiB texts reads about what one reply can hold, not all of them (and the first
   * always fits: three 8 KiB texts are far below it). `next_cursor` names the page's last entry
   * whenever older entries exist; entries written meanwhile are newer, so they never shift a page.
   */
  async list(orgId: string, limit: number, cursor?: unknown): Promise<ListCommandAuditReply> {
    const after = cursor === undefined || cursor === null ? undefined : await this.cursorPosition(orgId, cursor);
    const maxBytes = REPLY_BUDGET_BYTES.list;
    // `started_at <= $4` repeats the keyset's first half so command_audit_by_org (org_id, started_at) finds the page's start.
    const keyset = after ? 'AND started_at <= $4::timestamptz AND (started_at, id) < ($4::timestamptz, $5::uuid)' : '';
    const rows: AuditRow[] = await this.dataSource.query(
      `SELECT id, org_id, key_id, source_id, command_id, command, started_at, finished_at, exit_code, cursor_at, asked
         FROM (SELECT page.*,
                      sum(octet_length(source_id) + octet_length(command_id) + octet_length(command))
                        OVER (ORDER BY started_at DESC, id DESC) AS text_bytes,
                      count(*) OVER () AS asked
                 FROM (SELECT *, started_at::text AS cursor_at FROM command_audit
                        WHERE org_id = $1 ${keyset}
                        ORDER BY started_at DESC, id DESC LIMIT $2) page) counted
        WHERE text_bytes <= $3
        ORDER BY started_at DESC, id DESC`,
      // One row past `limit` says whether older entries exist.
      after ? [orgId, limit + 1, maxBytes, after[0], after[1]] : [orgId, limit + 1, maxBytes],
    );
    const asked = Number(rows[0]?.asked ?? 0);
    const { fitted } = fitInBytes(rows.slice(0, limit).map(auditEntry), maxBytes, true);
    const last = rows[fitted.length - 1];
    return {
      commands: fitted,
      truncated: fitted.length < Math.min(asked, limit),
      next_cursor: fitted.length < asked && last ? encodePageCursor([last.cursor_at, last.id]) : null,
    };
  }

  /**
   * Where the page before ended: a cursor this API wrote (decodePageCursor) that names an entry of
   * this org. Entries are never deleted but with their org, so any other one was forged or is
   * another org's: refused alike, saying nothing of other orgs.
   */
  private async cursorPosition(orgId: string, cursor: unknown): Promise<PagePosition> {
    const [startedAt, id] = decodePageCursor(cursor, AUDIT_ID);
    const [known] = await this.dataSource.query(
      `SELECT 1 FROM command_audit WHERE org_id = $1 AND id = $2::uuid AND started_at = $3::timestamptz`,
      [orgId, id, startedAt],
    );
    if (!known) {
      const message = '"cursor" names no entry of this audit log: pass back the next_cursor of the page before, unchanged';
      throw new DomainError('BAD_REQUEST', message, [{ field: 'cursor', message }]);
    }
    return [startedAt, id];
  }
}

/** An audit entry's id, as PostgreSQL writes a uuid (the cursor's second half). */
const AUDIT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An entry as PostgreSQL answers it: the wire's fields, its times as dates, and the query's own two. */
interface AuditRow extends Omit<CommandAuditEntry, 'started_at' | 'finished_at'> {
  started_at: Date;
  finished_at: Date | null;
  /** started_at as PostgreSQL writes it, exact to the microsecond: the cursor's time. */
  cursor_at: string;
  /** How many entries the inner query found, at most `limit` + 1. */
  asked: string;
}

function auditEntry({ cursor_at: _, asked: __, ...row }: AuditRow): CommandAuditEntry {
  return { ...row, started_at: row.started_at.toISOString(), finished_at: row.finished_at ? row.finished_at.toISOString() : null };
}
