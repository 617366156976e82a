import { createHmac, randomBytes } from 'node:crypto';

/** What a webhook's secret is derived from: its id and salt (alert_webhooks). */
export interface WebhookKey {
  id: string;
  salt: string;
}

/**
 * A webhook's signing secret: base64url(HMAC-SHA256(alerts secret, `${id}.${salt}`)). Derived,
 * never stored: a leaked table holds no secret, and a new salt (a new webhook) is a new secret.
 */
export function webhookSecret(alertsSecret: string, id: string, salt: string): string {
  return createHmac('sha256', alertsSecret).update(`${id}.${salt}`, 'utf8').digest('base64url');
}

/** 16 random bytes, base64url: a fresh salt per webhook. */
export function newWebhookSalt(): string {
  return randomBytes(16).toString('base64url');
}

/** The `Plexus-Signature` header of a body: `sha256=` and the hex HMAC-SHA256 of its exact bytes under the webhook's secret. */
export function signature(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
