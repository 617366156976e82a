import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type Repository } from 'typeorm';
import {
  BrokerConnection,
  digestsEqual,
  DomainError,
  type SourceRevokedEvent,
  type SourceSeenEvent,
  type SourceView,
  SUBJECTS,
  type VerifyDeviceReply,
} from '#common';
import { DeviceTokenEntity } from './device-token.entity.js';
import { SourceEntity } from './source.entity.js';

export function sourceView(source: SourceEntity): SourceView {
  return {
    source_id: source.id,
    org_id: source.orgId,
    name: source.name,
    platform: source.platform,
    sensors: source.sensors,
    cameras: source.cameras,
    // Presence is the realtime app's to report; without a live socket a source is offline.
    online: false,
    created_at: source.createdAt.toISOString(),
    last_seen: source.lastSeenAt ? source.lastSeenAt.toISOString() : null,
  };
}

/** Sources read from PostgreSQL per page of the list. */
const LIST_PAGE_SIZE = 1000;

interface SourceRow {
  org_id: string;
  id: string;
  name: string;
  platform: string | null;
  sensors: SourceView['sensors'];
  cameras: unknown[];
  created_at: Date;
  last_seen_at: Date | null;
  cursor_at: string;
}

function rowView(row: SourceRow): SourceView {
  return sourceView({
    orgId: row.org_id,
    id: row.id,
    name: row.name,
    platform: row.platform,
    sensors: row.sensors,
    cameras: row.cameras,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
  });
}

@Injectable()
export class SourcesService {
  private readonly sources: Repository<SourceEntity>;
  private readonly tokens: Repository<DeviceTokenEntity>;

  constructor(
    @Inject(DataSource) dataSource: DataSource,
    private readonly broker: BrokerConnection,
  ) {
    this.sources = dataSource.getRepository(SourceEntity);
    this.tokens = dataSource.getRepository(DeviceTokenEntity);
  }

  async list(orgId: string): Promise<SourceView[]> {
    const sources: SourceView[] = [];
    for await (const page of this.pages(orgId)) sources.push(...page);
    return sources;
  }

  /**
   * The org's sources, oldest first, a page at a time: an org of any size is listed with one
   * page in memory (keyset on created_at, id — the cursor kept as PostgreSQL's own text, since
   * a JS Date would drop its microseconds).
   */
  async *pages(orgId: string, pageSize = LIST_PAGE_SIZE): AsyncGenerator<SourceView[]> {
    let after: { at: string; id: string } | undefined;
    for (;;) {
      const rows: Array<SourceRow> = await this.sources.query(
        `SELECT org_id, id, name, platform, sensors, cameras, created_at, last_seen_at, created_at::text AS cursor_at
           FROM sources
          WHERE org_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::text))
          ORDER BY created_at, id
          LIMIT $4`,
        [orgId, after?.at ?? null, after?.id ?? null, pageSize],
      );
      if (rows.length > 0) yield rows.map(rowView);
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1];
      after = { at: last.cursor_at, id: last.id };
    }
  }

  /** Removes the source and its device tokens, then tells every realtime instance to drop its socket. */
  async revoke(orgId: string, sourceId: string): Promise<{ revoked: true; source_id: string }> {
    const result = await this.sources.delete({ orgId, id: sourceId });
    if (!result.affected) throw new DomainError('NOT_FOUND', `source "${sourceId}" not found`);
    const event: SourceRevokedEvent = { org_id: orgId, source_id: sourceId };
    this.broker.nc.publish(SUBJECTS.sources.revoked, JSON.stringify(event));
    return { revoked: true, source_id: sourceId };
  }

  /** A device connected or is alive: remember its description and when it was last seen. */
  async seen(event: SourceSeenEvent): Promise<void> {
    const values = [
      event.org_id,
      event.source_id,
      event.platform ?? null,
      JSON.stringify(event.sensors ?? []),
      JSON.stringify(event.cameras ?? []),
    ];
    if (event.create) {
      await this.sources.query(
        `INSERT INTO sources (org_id, id, name, platform, sensors, cameras, last_seen_at) VALUES ($1, $2, $2, $3, $4, $5, now())
         ON CONFLICT (org_id, id) DO UPDATE SET platform = EXCLUDED.platform, sensors = EXCLUDED.sensors, cameras = EXCLUDED.cameras, last_seen_at = now()`,
        values,
      );
    } else {
      await this.sources.query(
        `UPDATE sources SET platform = coalesce($3, platform), sensors = $4, cameras = $5, last_seen_at = now() WHERE org_id = $1 AND id = $2`,
        values,
      );
    }
  }

  /** Whether the source has a device token. */
  async isPaired(orgId: string, sourceId: string): Promise<boolean> {
    return this.tokens.existsBy({ orgId, sourceId });
  }

  async verifyDevice(tokenHash: string): Promise<VerifyDeviceReply> {
    if (!/^[0-9a-f]{64}$/.test(tokenHash)) return { valid: false };
    // A disabled org's device tokens are refused like revoked ones.
    const [token] = await this.tokens.query(
      `SELECT t.org_id, t.source_id, t.token_hash FROM device_tokens t JOIN orgs o ON o.id = t.org_id
        WHERE t.token_hash = $1 AND o.disabled_at IS NULL`,
      [tokenHash],
    );
    if (!token || !digestsEqual(token.token_hash, tokenHash)) return { valid: false };
    return { valid: true, org_id: token.org_id, source_id: token.source_id };
  }
}
