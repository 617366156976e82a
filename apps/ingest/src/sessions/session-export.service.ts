import { Injectable } from '@nestjs/common';
import type { ExportSessionRequest } from '#common';
import { CSV_HEADER, csvLine, ndjsonLine, type PointRow } from '../query/point-format.js';
import { ReadPool } from '../query/read-pool.js';
import { cursorRows } from '../query/row-cursor.js';
import { SessionsService } from './sessions.service.js';

const SESSION_POINTS = `
  SELECT extract(epoch FROM time)::float8 AS ts, source_id, metric, value_num, value_json::text AS value_json,
         tags::text AS tags, session_id
    FROM points WHERE org_id = $1 AND session_id = $2
   ORDER BY time, source_id, metric`;

/** A session's points as CSV or NDJSON, oldest first, read through a cursor. */
@Injectable()
export class SessionExportService {
  constructor(
    private readonly pool: ReadPool,
    private readonly sessions: SessionsService,
  ) {}

  async *export(request: ExportSessionRequest): AsyncGenerator<string> {
    await this.sessions.find(request.org_id, request.session_id);
    const line = request.format === 'ndjson' ? ndjsonLine : csvLine;
    yield request.format === 'ndjson' ? '' : CSV_HEADER;
    for await (const rows of cursorRows<PointRow>(this.pool, SESSION_POINTS, [request.org_id, request.session_id])) {
      let chunk = '';
      for (const row of rows) chunk += line(row);
      yield chunk;
    }
  }
}
