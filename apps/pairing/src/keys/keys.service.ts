import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, IsNull, type Repository } from 'typeorm';
import {
  BrokerConnection,
  type CreatedKey,
  digestsEqual,
  displayPrefix,
  DomainError,
  generateApiKey,
  hashSecret,
  KEY_LIMITS,
  keyNameProblem,
  type KeyRevokedEvent,
  type KeyView,
  type ListKeysReply,
  METRICS,
  type Principal,
  type Scope,
  SCOPES,
  SUBJECTS,
  type VerifyKeyReply,
  fitInBytes,
  REPLY_BUDGET_BYTES,
} from '#common';
import { ApiKeyEntity } from './api-key.entity.js';

/** How often a key's last-used time is written at most: verification is hot, the column is informational. */
const LAST_USED_RESOLUTION_MS = 60_000;

export function keyView(key: ApiKeyEntity): KeyView {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes as Scope[],
    created_at: key.createdAt.toISOString(),
    last_used_at: key.lastUsedAt ? key.lastUsedAt.toISOString() : null,
  };
}

/** The stored form of a new key. */
export function apiKeyRecord(orgId: string, name: string, scopes: Scope[], plaintext: string): Partial<ApiKeyEntity> {
  return { orgId, name, scopes, keyHash: hashSecret(plaintext), prefix: displayPrefix(plaintext) };
}

@Injectable()
export class KeysService {
  private readonly logger = new Logger(KeysService.name);
  private readonly keys: Repository<ApiKeyEntity>;
  private readonly lastUsedWritten = new Map<string, number>();

  constructor(
    @Inject(DataSource) dataSource: DataSource,
    private readonly broker: BrokerConnection,
  ) {
    this.keys = dataSource.getRepository(ApiKeyEntity);
  }

  async verify(keyHash: string): Promise<VerifyKeyReply> {
    if (!/^[0-9a-f]{64}$/.test(keyHash)) return { valid: false };
    const key = await this.keys.findOne({ where: { keyHash, revokedAt: IsNull() }, relations: { org: true } });
    // A disabled org's keys are refused like revoked ones.
    if (!key || !digestsEqual(key.keyHash, keyHash) || key.org?.disabledAt) {
      METRICS.keyVerifications.inc({ outcome: 'refused' });
      return { valid: false };
    }
    METRICS.keyVerifications.inc({ outcome: 'valid' });
    this.touch(key.id);
    const principal: Principal = { org_id: key.orgId, org_name: key.org?.name ?? key.orgId, key_id: key.id, scopes: key.scopes as Scope[] };
    return { valid: true, principal };
  }

  /** Stores a new key for the org; the plaintext is returned to show once and is never stored. */
  async create(orgId: string, name: string, scopes: Scope[], plaintext = generateApiKey()): Promise<{ entity: ApiKeyEntity; key: string }> {
    const entity = await this.keys.save(this.keys.create(apiKeyRecord(orgId, name, scopes, plaintext)));
    return { entity, key: plaintext };
  }

  /**
   * A new key for the org; the plaintext is in the answer and nowhere else. An org holds at most
   * KEY_LIMITS.maxActivePerOrg unrevoked keys (so that `list` fits in one NATS reply): creates are
   * serialised per org for the count, so racing creates cannot pass the limit together.
   */
  async createForOrg(orgId: string, name: unknown, scopes: unknown): Promise<CreatedKey> {
    const nameProblem = keyNameProblem(name);
    if (nameProblem !== undefined) {
      throw new DomainError('BAD_REQUEST', `name ${nameProblem}`, [{ field: 'name', message: `name ${nameProblem}` }]);
    }
    if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((scope) => (SCOPES as readonly unknown[]).includes(scope))) {
      throw new DomainError('BAD_REQUEST', `scopes must be a non-empty list of ${SCOPES.join(', ')}`, [
        { field: 'scopes', message: `scopes must be a non-empty list of ${SCOPES.join(', ')}` },
      ]);
    }
    const plaintext = generateApiKey();
    const entity = await this.keys.manager.transaction(async (tx) => {
      const [org] = await tx.query(`SELECT disabled_at FROM orgs WHERE id = $1`, [orgId]);
      if (!org) throw new DomainError('NOT_FOUND', `org "${orgId}" not found; create it with orgs.create`);
      if (org.disabled_at) throw new DomainError('CONFLICT', `org "${orgId}" is disabled`);
      await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('api_keys:' || $1, 0))`, [orgId]);
      const [{ active }] = await tx.query(`SELECT count(*)::int AS active FROM api_keys WHERE org_id = $1 AND revoked_at IS NULL`, [orgId]);
      if (active >= KEY_LIMITS.maxActivePerOrg) {
        throw new DomainError('CONFLICT', `an org has at most ${KEY_LIMITS.maxActivePerOrg} active API keys; revoke one first`);
      }
      const record = apiKeyRecord(orgId, (name as string).trim(), [...new Set(scopes as Scope[])], plaintext);
      return tx.save(tx.create(ApiKeyEntity, record));
    });
    return { ...keyView(entity), key: plaintext };
  }

  /**
   * The org's unrevoked keys, oldest first, as many as fit in one reply's budget: all of them,
   * unless the org had more than the limit before there was one (`truncated`).
   */
  async list(orgId: string): Promise<ListKeysReply> {
    const keys = await this.keys.find({ where: { orgId, revokedAt: IsNull() }, order: { createdAt: 'ASC', id: 'ASC' } });
    const { fitted, truncated } = fitInBytes(keys.map(keyView), REPLY_BUDGET_BYTES.list);
    return { keys: fitted, truncated };
  }

  /** Marks the key revoked and tells every gateway and realtime instance to forget it at once. */
  async revoke(orgId: string, keyId: string): Promise<{ revoked: true; id: string }> {
    const result = /^[0-9a-f-]{36}$/i.test(keyId)
      ? await this.keys.update({ id: keyId, orgId, revokedAt: IsNull() }, { revokedAt: new Date() })
      : { affected: 0 };
    if (!result.affected) throw new DomainError('NOT_FOUND', `API key "${keyId}" not found`);
    const event: KeyRevokedEvent = { org_id: orgId, key_id: keyId };
    this.broker.nc.publish(SUBJECTS.keys.revoked, JSON.stringify(event));
    return { revoked: true, id: keyId };
  }

  private touch(keyId: string): void {
    const now = Date.now();
    if (now - (this.lastUsedWritten.get(keyId) ?? 0) < LAST_USED_RESOLUTION_MS) return;
    this.lastUsedWritten.set(keyId, now);
    this.keys.update({ id: keyId }, { lastUsedAt: new Date(now) }).catch((error: Error) => {
      this.logger.warn(`could not record last use of key ${keyId}: ${error.message}`);
    });
  }
}
