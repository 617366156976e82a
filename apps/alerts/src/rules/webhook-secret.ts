import { createHmac, randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AlertsConfig } from '../config.js';

/** The `settings` row that holds a generated alerts secret when PLEXUS_ALERTS_SECRET is unset. */
export const ALERTS_SECRET_SETTING = 'alerts_secret';

/**
 * A webhook's signing secret: base64url(HMAC-SHA256(alerts secret, `${id}.${salt}`)). Secrets
 * are never stored; each is derived again when needed, so a leaked table signs nothing.
 */
export function webhookSecret(alertsSecret: string, webhookId: string, salt: string): string {
  return createHmac('sha256', alertsSecret).update(`${webhookId}.${salt}`, 'utf8').digest('base64url');
}

/**
 * The alerts secret: PLEXUS_ALERTS_SECRET, or else one generated once and kept in `settings`, so
 * every alerts instance derives the same webhook secrets (as PairingSecret does for codes).
 */
@Injectable()
export class AlertsSecret implements OnModuleInit {
  private secret?: string;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly config: AlertsConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.alertsSecret) {
      this.secret = this.config.alertsSecret;
      return;
    }
    // The first instance to get here stores its candidate; every instance then reads the one stored.
    await this.dataSource.query(`INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [
      ALERTS_SECRET_SETTING,
      randomBytes(32).toString('hex'),
    ]);
    const [row] = await this.dataSource.query(`SELECT value FROM settings WHERE name = $1`, [ALERTS_SECRET_SETTING]);
    this.secret = row.value as string;
  }

  webhookSecret(webhookId: string, salt: string): string {
    if (!this.secret) throw new Error('the alerts secret is not loaded yet');
    return webhookSecret(this.secret, webhookId, salt);
  }
}
