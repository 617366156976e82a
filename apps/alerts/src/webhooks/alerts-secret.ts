import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { loadSettingSecret } from '#common';
import { DataSource } from 'typeorm';
import { AlertsConfig } from '../config.js';
import { type WebhookKey, webhookSecret } from './webhook-secret.js';

/** The `settings` row holding a generated alerts secret when PLEXUS_ALERTS_SECRET is unset. */
export const ALERTS_SECRET_SETTING = 'alerts_webhook_secret';

/**
 * The key webhook secrets are derived from: PLEXUS_ALERTS_SECRET, or else one generated once and
 * kept in `settings`, so every alerts instance signs alike and a restart keeps the secrets users hold.
 */
@Injectable()
export class AlertsSecret implements OnModuleInit {
  private secret?: string;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly config: AlertsConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    this.secret = await loadSettingSecret(this.dataSource, ALERTS_SECRET_SETTING, this.config.alertsSecret);
  }

  /** The signing secret of one webhook (shown once when the webhook is created). */
  secretFor(webhook: WebhookKey): string {
    if (!this.secret) throw new Error('the alerts secret is not loaded yet');
    return webhookSecret(this.secret, webhook.id, webhook.salt);
  }
}
