import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { generateApiKey } from '#common';
import { PairingConfig } from '../config.js';
import { ApiKeyEntity } from '../keys/api-key.entity.js';
import { apiKeyRecord } from '../keys/keys.service.js';
import { OrgEntity } from './org.entity.js';

export const DEFAULT_ORG_ID = 'default';

/**
 * On an empty database: the org `default` (named PLEXUS_BOOTSTRAP_ORG_NAME) and its admin key (PLEXUS_BOOTSTRAP_ADMIN_KEY,
 * or a random key printed once). Serialised by an advisory lock so two pairing apps
 * starting together create it once.
 */
@Injectable()
export class BootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger(BootstrapService.name);

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly config: PairingConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const generated = await this.dataSource.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('plexus.bootstrap'))`);
      if ((await tx.count(OrgEntity)) > 0) return undefined;
      const key = this.config.bootstrapAdminKey ?? generateApiKey();
      await tx.save(tx.create(OrgEntity, { id: DEFAULT_ORG_ID, name: this.config.bootstrapOrgName }));
      await tx.save(tx.create(ApiKeyEntity, apiKeyRecord(DEFAULT_ORG_ID, 'bootstrap admin', ['admin'], key)));
      return { key, fromEnv: this.config.bootstrapAdminKey !== undefined };
    });
    if (!generated) return;
    if (generated.fromEnv) {
      this.logger.log('created org "default" with the admin key from PLEXUS_BOOTSTRAP_ADMIN_KEY');
    } else {
      // The one time a secret is printed: the contract asks for it, and it is never stored in plaintext.
      this.logger.warn(`created org "default"; its admin API key (shown once, keep it): ${generated.key}`);
    }
  }
}
