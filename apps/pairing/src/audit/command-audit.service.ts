import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type CommandAuditEntry, type CommandFinishedEvent, type CommandStartedRequest } from '#common';

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

  async list(orgId: string, limit: number): Promise<CommandAuditEntry[]> {
    const rows = await this.dataSource.query(
      `SELECT id, org_id, key_id, source_id, command_id, command, started_at, finished_at, exit_code
         FROM command_audit WHERE org_id = $1 ORDER BY started_at DESC LIMIT $2`,
      [orgId, limit],
    );
    return rows.map((row: Record<string, unknown>) => ({
      ...row,
      started_at: (row.started_at as Date).toISOString(),
      finished_at: row.finished_at ? (row.finished_at as Date).toISOString() : null,
    })) as CommandAuditEntry[];
  }
}
