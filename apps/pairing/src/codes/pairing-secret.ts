import { createHmac } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { loadSettingSecret } from '#common';
import { DataSource } from 'typeorm';
import { PairingConfig } from '../config.js';

const SETTING = 'pairing_code_secret';

/**
 * Pairing codes have only 32^6 ≈ 10^9 values: a plain hash of one is reversed by trying them
 * all. Hashing with a server secret (HMAC-SHA256) makes a leaked table useless without it.
 * The secret is PLEXUS_PAIRING_SECRET, or else one generated once and kept in `settings`, so
 * every pairing instance hashes alike.
 */
@Injectable()
export class PairingSecret implements OnModuleInit {
  private secret?: string;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly config: PairingConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    this.secret = await loadSettingSecret(this.dataSource, SETTING, this.config.pairingSecret);
  }

  /** The stored form of a code: codes are case-insensitive, so the upper-cased code is hashed. */
  hash(code: string): string {
    if (!this.secret) throw new Error('the pairing secret is not loaded yet');
    return createHmac('sha256', this.secret).update(code.trim().toUpperCase(), 'utf8').digest('hex');
  }
}
