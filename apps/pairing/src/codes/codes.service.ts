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
import { config } from '../config.js';
import { DeviceTokenEntity } from '../sources/device-token.entity.js';
import { SourceEntity } from '../sources/source.entity.js';
import { PairingCodeEntity } from './pairing-code.entity.js';

const CODE_PATTERN = new RegExp(`^[${PAIRING_CODE_ALPHABET}]{6}$`);
const SOURCE_ID = new RegExp(SOURCE_ID_PATTERN);
const UNIQUE_VIOLATION = '23505';

/** The stored form of a code: codes are case-insensitive, so the upper-cased code is hashed. */
export function pairingCodeHash(code: string): string {
  return hashSecret(code.trim().toUpperCase());
}

/** A readable, unique-enough id for a new source: its name as a slug, or `device`, and 4 random hex digits. */
export function newSourceId(name: string | null | undefined): string {
  const slug = (name ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|-+$/g, '')
    .slice(0, 100);
  return `${slug || 'device'}-${randomBytes(2).toString('hex')}`;
}

@Injectable()
export class CodesService {
  private readonly codes: Repository<PairingCodeEntity>;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly broker: BrokerConnection,
  ) {
    this.codes = dataSource.getRepository(PairingCodeEntity);
  }

  /** A fresh single-use code for the org, valid PLEXUS_PAIRING_CODE_TTL_SECONDS. */
  async create(orgId: string, name?: string): Promise<PairingCodeReply> {
    // Housekeeping: codes a day past their expiry are of no use to anyone.
    await this.codes.query(`DELETE FROM pairing_codes WHERE expires_at < now() - interval '1 day'`);
    const expiresAt = new Date(Date.now() + config.pairingCodeTtlSeconds * 1000);
    for (let attempt = 0; ; attempt++) {
      const code = generatePairingCode();
      try {
        await this.codes.insert({ orgId, codeHash: pairingCodeHash(code), name: name ?? null, expiresAt });
        return { code, expires_at: expiresAt.toISOString() };
      } catch (error) {
        if ((error as { code?: string }).code !== UNIQUE_VIOLATION || attempt >= 5) throw error;
      }
    }
  }

  async status(orgId: string, code: string): Promise<PairingCodeStatusReply> {
    const found = CODE_PATTERN.test(code.trim().toUpperCase()) ? await this.codes.findOneBy({ codeHash: pairingCodeHash(code), orgId }) : null;
    if (!found) throw new DomainError('CODE_NOT_FOUND', 'pairing code not found');
    if (found.usedAt) return { status: 'paired', source_id: found.sourceId ?? undefined, expires_at: found.expiresAt.toISOString() };
    if (found.expiresAt.getTime() <= Date.now()) throw new DomainError('CODE_EXPIRED', 'pairing code expired; create a new one');
    return { status: 'pending', expires_at: found.expiresAt.toISOString() };
  }

  /**
   * Pairs a device: checks the code (single use, unexpired) under a row lock, creates or
   * updates the source, replaces its device token, and returns the token once.
   */
  async complete(request: CompletePairingRequest): Promise<CompletePairingReply> {
    const code = typeof request?.code === 'string' ? request.code.trim().toUpperCase() : '';
    if (!CODE_PATTERN.test(code)) {
      throw new DomainError('BAD_REQUEST', `code must be 6 characters of ${PAIRING_CODE_ALPHABET}`, [{ field: 'code', message: 'malformed pairing code' }]);
    }
    if (request.source_id !== undefined && (typeof request.source_id !== 'string' || !SOURCE_ID.test(request.source_id))) {
      throw new DomainError('BAD_REQUEST', 'source_id must start with a letter or digit and hold up to 128 letters, digits, ".", "_", ":" or "-"', [
        { field: 'source_id', message: 'invalid source_id' },
      ]);
    }
    const name = typeof request.name === 'string' && request.name.trim() ? request.name.trim().slice(0, 256) : undefined;
    const platform = typeof request.platform === 'string' && request.platform.trim() ? request.platform.trim().slice(0, 128) : null;
    const deviceToken = generateDeviceToken();
    const { reply, replacedToken } = await this.dataSource.transaction(async (tx) => {
      const pairing = await tx
        .getRepository(PairingCodeEntity)
        .createQueryBuilder('c')
        .setLock('pessimistic_write')
        .where('c.code_hash = :hash', { hash: pairingCodeHash(code) })
        .getOne();
      if (!pairing) throw new DomainError('CODE_NOT_FOUND', 'pairing code not found; check it, or create a new one in the dashboard');
      if (pairing.usedAt) throw new DomainError('CODE_USED', 'pairing code already used; create a new one');
      if (pairing.expiresAt.getTime() <= Date.now()) throw new DomainError('CODE_EXPIRED', 'pairing code expired; create a new one');
      const sourceId = request.source_id ?? newSourceId(name ?? pairing.name);
      const sourceName = name ?? pairing.name ?? sourceId;
      await upsertSource(tx, pairing.orgId, sourceId, sourceName, platform);
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

async function upsertSource(tx: EntityManager, orgId: string, sourceId: string, name: string, platform: string | null): Promise<void> {
  await tx
    .createQueryBuilder()
    .insert()
    .into(SourceEntity)
    .values({ orgId, id: sourceId, name, platform, sensors: [], cameras: [] })
    .orUpdate(['name', 'platform'], ['org_id', 'id'])
    .execute();
}
