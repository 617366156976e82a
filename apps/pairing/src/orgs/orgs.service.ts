import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  BrokerConnection,
  type CreatedOrg,
  DomainError,
  generateApiKey,
  type ListOrgsPage,
  type OrgDisabledEvent,
  ORG_ID_PATTERN,
  type OrgView,
  SUBJECTS,
  fitInBytes,
  REPLY_BUDGET_BYTES,
} from '#common';
import { ApiKeyEntity } from '../keys/api-key.entity.js';
import { apiKeyRecord, keyView } from '../keys/keys.service.js';
import { optionalText } from '../rpc-input.js';
import { OrgEntity } from './org.entity.js';

const ORG_ID = new RegExp(ORG_ID_PATTERN);

/** At most this many orgs a page of `list` (and at most REPLY_BUDGET_BYTES.page of them). */
export const ORGS_PAGE_ROWS = 1000;

export function orgView(org: OrgEntity): OrgView {
  return {
    id: org.id,
    name: org.name,
    created_at: org.createdAt.toISOString(),
    disabled_at: org.disabledAt ? org.disabledAt.toISOString() : null,
  };
}

/** Tenancy as an operation: orgs are made, listed and disabled by operators over NATS. */
@Injectable()
export class OrgsService {
  private readonly logger = new Logger(OrgsService.name);

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly broker: BrokerConnection,
  ) {}

  /** A new org and its first admin key, whose plaintext is in the answer and nowhere else. */
  async create(id: unknown, name: unknown): Promise<CreatedOrg> {
    if (typeof id !== 'string' || !ORG_ID.test(id)) {
      throw new DomainError('BAD_REQUEST', 'id must be 1 to 63 lower-case letters, digits, "_" or "-", starting with a letter or digit', [
        { field: 'id', message: 'invalid org id' },
      ]);
    }
    if (name !== undefined && (typeof name !== 'string' || name.length > 128 || !optionalText({ name }, 'name', 128))) {
      throw new DomainError('BAD_REQUEST', 'name must be 1 to 128 characters of valid text', [{ field: 'name', message: 'invalid name' }]);
    }
    const key = generateApiKey();
    const { org, adminKey } = await this.dataSource.transaction(async (tx) => {
      const inserted = await tx.query(`INSERT INTO orgs (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id`, [
        id,
        (name as string | undefined)?.trim() ?? id,
      ]);
      if (!inserted.length) throw new DomainError('CONFLICT', `org "${id}" already exists`);
      const adminKey = await tx.save(tx.create(ApiKeyEntity, apiKeyRecord(id, 'first admin', ['admin'], key)));
      return { org: await tx.findOneByOrFail(OrgEntity, { id }), adminKey };
    });
    this.logger.log(`created org "${id}"`);
    return { ...orgView(org), admin_key: { ...keyView(adminKey), key } };
  }

  /**
   * A page of orgs, oldest first: at most ORGS_PAGE_ROWS, and as many as fit in the reply budget
   * of a page (an org's name may be 128 characters JSON writes at 6 bytes each), one at least.
   * `cursor` is the `next_cursor` of the page before: the id of its last org (orgs are never
   * deleted, so it always names one); anything else is a BAD_REQUEST.
   */
  async list(cursor?: unknown): Promise<ListOrgsPage> {
    const after = cursor === undefined || cursor === null ? undefined : await this.cursorOrg(cursor);
    const rows: OrgEntity[] = await this.dataSource.getRepository(OrgEntity).query(
      `SELECT id, name, created_at AS "createdAt", disabled_at AS "disabledAt" FROM orgs
        ${after ? 'WHERE (created_at, id) > (SELECT created_at, id FROM orgs WHERE id = $2)' : ''}
        ORDER BY created_at, id LIMIT $1`,
      after ? [ORGS_PAGE_ROWS + 1, after] : [ORGS_PAGE_ROWS + 1],
    );
    const { fitted: orgs } = fitInBytes(rows.slice(0, ORGS_PAGE_ROWS).map(orgView), REPLY_BUDGET_BYTES.page, true);
    const more = orgs.length < rows.length;
    return { orgs, next_cursor: more ? orgs[orgs.length - 1].id : null };
  }

  private async cursorOrg(cursor: unknown): Promise<string> {
    if (typeof cursor === 'string' && ORG_ID.test(cursor)) {
      const [known] = await this.dataSource.query(`SELECT 1 FROM orgs WHERE id = $1`, [cursor]);
      if (known) return cursor;
    }
    throw new DomainError('BAD_REQUEST', '"cursor" is not one this API handed out (the next_cursor of a page)', [
      { field: 'cursor', message: 'unknown cursor' },
    ]);
  }

  /**
   * Refuses the org's keys and device tokens from now on (verification checks `disabled_at`), and
   * tells every gateway to forget its cached keys and every realtime instance to close its sockets.
   * Disabling again is harmless and announces it again.
   */
  async disable(id: string): Promise<OrgView> {
    const orgs = this.dataSource.getRepository(OrgEntity);
    await orgs.query(`UPDATE orgs SET disabled_at = coalesce(disabled_at, now()) WHERE id = $1`, [id]);
    const org = await orgs.findOneBy({ id });
    if (!org) throw new DomainError('NOT_FOUND', `org "${id}" not found`);
    const event: OrgDisabledEvent = { org_id: id };
    this.broker.nc.publish(SUBJECTS.orgs.disabled, JSON.stringify(event));
    this.logger.warn(`disabled org "${id}"`);
    return orgView(org);
  }
}
