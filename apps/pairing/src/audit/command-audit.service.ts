import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  type CommandAuditEntry,
  type CommandFinishedEvent,
  type CommandStartedRequest,
  fitInBytes,
  type ListCommandAuditReply,
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
   * The newest `limit` entries whose JSON fits in one reply's budget, whole entries only, and whether any
   * were left out for it. An entry's texts take at least their UTF-8 bytes on the wire, so the
   * database sends only the entries whose running total of those stays within the budget: a
   * listing of 1,000 entries of 8 KiB texts reads about what one reply can hold, not all of them.
   */
  async list(orgId: string, limit: number): Promise<ListCommandAuditReply> {
    const maxBytes = REPLY_BUDGET_BYTES.list;
    const rows: Array<Record<string, unknown> & { asked: string }> = await this.dataSource.query(
      `SELECT id, org_id, key_id, source_id, command_id, command, started_at, finished_at, exit_code, asked
         FROM (SELECT newest.*,
                      sum(octet_length(source_id) + octet_length(command_id) + octet_length(command))
                        OVER (ORDER BY started_at DESC, id) AS text_bytes,
                      count(*) OVER () AS asked
                 FROM (SELECT * FROM command_audit WHERE org_id = $1 ORDER BY started_at DESC, id LIMIT $2) newest) counted
        WHERE text_bytes <= $3
        ORDER BY started_at DESC, id`,
      [orgId, limit, maxBytes],
    );
    const entries = rows.map(
      ({ asked: _, ...row }): CommandAuditEntry =>
        ({
          ...row,
          started_at: (row.started_at as Date).toISOString(),
          finished_at: row.finished_at ? (row.finished_at as Date).toISOString() : null,
        }) as CommandAuditEntry,
    );
    const { fitted, truncated } = fitInBytes(entries, maxBytes);
    return { commands: fitted, truncated: truncated || fitted.length < Number(rows[0]?.asked ?? 0) };
  }
}
