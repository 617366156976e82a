import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import {
  BrokerConnection,
  type CompletePairingReply,
  type CompletePairingRequest,
  DomainError,
  generateDeviceToken,
  generatePairingCode,
  hashSecret,
  PAIRING_CODE_ALPHABET,
  type PairingCodeReply,
  type PairingCodeStatusReply,
  SOURCE_ID_PATTERN,
  type SourceRevokedEvent,
  SUBJECTS,
} from '#common';
import { PairingConfig } from '../config.js';
import { optionalText } from '../rpc-input.js';
import { DeviceTokenEntity } from '../sources/device-token.entity.js';
import { PairingCodeEntity } from './pairing-code.entity.js';
import { PairingSecret } from './pairing-secret.js';

const CODE_PATTERN = new RegExp(`^[${PAIRING_CODE_ALPHABET}]{6}$`);
const SOURCE_ID = new RegExp(SOURCE_ID_PATTERN);
const UNIQUE_VIOLATION = '23505';

/** A readable, unique-enough id for a new source: its name as a slug, or `device`, and 4 random hex digits. */
export function newSourceId(name: string | null | undefined): string {
  const slug = (name ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|-+$/g, '')
    .slice(0, 100);
  return `${slug || 'device'}-${randomBytes(2).toString('hex')}`;
}

function checkSourceId(sourceId: unknown): string | undefined {
  if (sourceId === undefined) return undefined;
  if (typeof sourceId !== 'string' || !SOURCE_ID.test(sourceId)) {
    throw new DomainError(
      'BAD_REQUEST',
      'source_id must start with a letter or digit and hold up to 128 letters, digits, ".", "_", ":" or "-"',
      [{ field: 'source_id', message: 'invalid source_id' }],
    );
  }
  return sourceId;
}

@Injectable()
export class CodesService {
  private readonly codes: Repository<PairingCodeEntity>;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly broker: BrokerConnection,
    private readonly secret: PairingSecret,
    private readonly config: PairingConfig,
  ) {
    this.codes = dataSource.getRepository(PairingCodeEntity);
  }

  /**
   * A fresh single-use code for the org, valid PLEXUS_PAIRING_CODE_TTL_SECONDS. With `forSourceId`
   * the code re-pairs that existing source and nothing else: the admin's say-so to replace its token.
   */
  async create(orgId: string, name?: string, forSourceId?: unknown): Promise<PairingCodeReply> {
    const sourceId = checkSourceId(forSourceId);
    if (sourceId !== undefined) {
      const [found] = await this.dataSource.query(`SELECT 1 FROM sources WHERE org_id = $1 AND id = $2`, [orgId, sourceId]);
      if (!found) throw new DomainError('NOT_FOUND', `source "${sourceId}" not found; pair without source_id to add a new source`);
    }
    // Housekeeping: codes a day past their expiry are of no use to anyone.
    await this.codes.query(`DELETE FROM pairing_codes WHERE expires_at < now() - interval '1 day'`);
    const expiresAt = new Date(Date.now() + this.config.pairingCodeTtlSeconds * 1000);
    for (let attempt = 0; ; attempt++) {
      const code = generatePairingCode();
      try {
        await this.codes.insert({ orgId, codeHash: this.secret.hash(code), name: name ?? null, expiresAt, forSourceId: sourceId ?? null });
        return { code, expires_at: expiresAt.toISOString(), ...(sourceId !== undefined ? { source_id: sourceId } : {}) };
      } catch (error) {
        if ((error as { code?: string }).code !== UNIQUE_VIOLATION || attempt >= 5) throw error;
      }
    }
  }

  async status(orgId: string, code: string): Promise<PairingCodeStatusReply> {
    const found = CODE_PATTERN.test(code.trim().toUpperCase())
      ? await this.codes.findOneBy({ codeHash: this.secret.hash(code), orgId })
      : null;
    if (!found) throw new DomainError('CODE_NOT_FOUND', 'pairing code not found');
    if (found.usedAt) return { status: 'paired', source_id: found.sourceId ?? undefined, expires_at: found.expiresAt.toISOString() };
    if (found.expiresAt.getTime() <= Date.now()) throw new DomainError('CODE_EXPIRED', 'pairing code expired; create a new one');
    return { status: 'pending', expires_at: found.expiresAt.toISOString() };
  }

  /**
   * Pairs a device: checks the code (single use, unexpired, its org enabled) under a row lock,
   * creates the source or, for a code bound to one, re-pairs it, and returns the new token once.
   * A paired source is never taken over by a code that was not made for it (409).
   */
  async complete(request: CompletePairingRequest): Promise<CompletePairingReply> {
    const code = typeof request?.code === 'string' ? request.code.trim().toUpperCase() : '';
    if (!CODE_PATTERN.test(code)) {
      throw new DomainError('BAD_REQUEST', `code must be 6 characters of ${PAIRING_CODE_ALPHABET}`, [
        { field: 'code', message: 'malformed pairing code' },
      ]);
    }
    const askedSourceId = checkSourceId(request.source_id);
    const name = optionalText(request, 'name', 256);
    const platform = optionalText(request, 'platform', 128) ?? null;
    const deviceToken = generateDeviceToken();
    const { reply, replacedToken } = await this.dataSource.transaction(async (tx) => {
      const pairing = await tx
        .getRepository(PairingCodeEntity)
        .createQueryBuilder('c')
        .setLock('pessimistic_write')
        .where('c.code_hash = :hash', { hash: this.secret.hash(code) })
        .getOne();
      if (!pairing) throw new DomainError('CODE_NOT_FOUND', 'pairing code not found; check it, or create a new one in the dashboard');
      if (pairing.usedAt) throw new DomainError('CODE_USED', 'pairing code already used; create a new one');
      if (pairing.expiresAt.getTime() <= Date.now()) throw new DomainError('CODE_EXPIRED', 'pairing code expired; create a new one');
      const [org] = await tx.query(`SELECT disabled_at FROM orgs WHERE id = $1`, [pairing.orgId]);
      if (!org || org.disabled_at) throw new DomainError('FORBIDDEN', 'this pairing code belongs to a disabled org');
      const newName = name ?? pairing.name ?? undefined;
      let sourceId: string;
      let sourceName: string;
      if (pairing.forSourceId) {
        if (askedSourceId !== undefined && askedSourceId !== pairing.forSourceId) {
          throw new DomainError('CONFLICT', `this pairing code re-pairs source "${pairing.forSourceId}" only`, [
            { field: 'source_id', message: 'not the source this code was made for' },
          ]);
        }
        sourceId = pairing.forSourceId;
        sourceName = await upsertSource(tx, pairing.orgId, sourceId, newName, platform);
      } else if (askedSourceId !== undefined) {
        sourceId = askedSourceId;
        // The upsert locks the source's row, so two codes racing for one source id pair it once.
        sourceName = await upsertSource(tx, pairing.orgId, sourceId, newName, platform);
        const [paired] = await tx.query(`SELECT 1 FROM device_tokens WHERE org_id = $1 AND source_id = $2 LIMIT 1`, [
          pairing.orgId,
          sourceId,
        ]);
        if (paired) {
          throw new DomainError(
            'CONFLICT',
            `source "${sourceId}" is already paired; re-pairing it needs a code an admin makes for it (POST /api/sources/pair { source_id })`,
            [{ field: 'source_id', message: 'already paired' }],
          );
        }
      } else {
        ({ sourceId, sourceName } = await insertNewSource(tx, pairing.orgId, newName, platform));
      }
      const removed = await tx.delete(DeviceTokenEntity, { orgId: pairing.orgId, sourceId });
      await tx.insert(DeviceTokenEntity, { orgId: pairing.orgId, sourceId, tokenHash: hashSecret(deviceToken) });
      await tx.update(PairingCodeEntity, { id: pairing.id }, { usedAt: new Date(), sourceId });
      return {
        reply: { device_token: deviceToken, source_id: sourceId, org_id: pairing.orgId, source_name: sourceName },
        replacedToken: Boolean(removed.affected),
      };
    });
    if (replacedToken) {
      // Re-pairing a source retires its old token: its live socket, if any, must go.
      const event: SourceRevokedEvent = { org_id: reply.org_id, source_id: reply.source_id };
      this.broker.nc.publish(SUBJECTS.sources.revoked, JSON.stringify(event));
    }
    return reply;
  }
}

/** Creates the source or updates it (its name only when one is given); answers its name. */
async function upsertSource(
  tx: EntityManager,
  orgId: string,
  sourceId: string,
  name: string | undefined,
  platform: string | null,
): Promise<string> {
  const [row] = await tx.query(
    `INSERT INTO sources (org_id, id, name, platform) VALUES ($1, $2, $3, $4)
     ON CONFLICT (org_id, id) DO UPDATE SET name = coalesce($5, sources.name), platform = coalesce(EXCLUDED.platform, sources.platform)
     RETURNING name`,
    [orgId, sourceId, name ?? sourceId, platform, name ?? null],
  );
  return row.name as string;
}

/** A new source under a generated id; an id already taken (1 in 65,536 per name) is drawn again. */
async function insertNewSource(
  tx: EntityManager,
  orgId: string,
  name: string | undefined,
  platform: string | null,
): Promise<{ sourceId: string; sourceName: string }> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const sourceId = newSourceId(name);
    const inserted = await tx.query(
      `INSERT INTO sources (org_id, id, name, platform) VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, id) DO NOTHING RETURNING name`,
      [orgId, sourceId, name ?? sourceId, platform],
    );
    if (inserted.length) return { sourceId, sourceName: inserted[0].name as string };
  }
  throw new DomainError('CONFLICT', 'could not find a free source id; send a source_id');
}
