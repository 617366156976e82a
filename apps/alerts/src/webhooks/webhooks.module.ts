import { Module } from '@nestjs/common';
import { AlertsSecret } from './alerts-secret.js';
import { WebhookDispatcher } from './webhook-dispatcher.service.js';

/** Webhook secrets and the dispatcher of the deliveries outbox (docs/alerts.md#webhooks). */
@Module({ providers: [AlertsSecret, WebhookDispatcher], exports: [AlertsSecret, WebhookDispatcher] })
export class WebhooksModule {}
