import { Injectable } from '@nestjs/common';
import type { ExportSessionRequest } from '#common';
import { PointsRepository } from '../points/points.repository.js';
import { CSV_HEADER, csvLine, ndjsonLine } from '../query/point-format.js';
import { SessionsService } from './sessions.service.js';

/** A session's points as CSV or NDJSON, oldest first, read through a cursor. */
@Injectable()
export class SessionExportService {
  constructor(
    private readonly points: PointsRepository,
    private readonly sessions: SessionsService,
  ) {}

  async *export(request: ExportSessionRequest): AsyncGenerator<string> {
    await this.sessions.find(request.org_id, request.session_id);
    const line = request.format === 'ndjson' ? ndjsonLine : csvLine;
    yield request.format === 'ndjson' ? '' : CSV_HEADER;
    for await (const rows of this.points.sessionPoints(request.org_id, request.session_id)) {
      let chunk = '';
      for (const row of rows) chunk += line(row);
      yield chunk;
    }
  }
}
