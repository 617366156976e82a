import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AlertsConfig } from '../config.js';
import { AlertsSecret } from './alerts-secret.js';
import { signature } from './webhook-secret.js';

/** Deliveries one instance sends at once; each claim takes at most this many less those in flight. */
const MAX_IN_FLIGHT = 16;
/** How often due deliveries are looked for when nothing kicks the loop (a retry coming due). */
const POLL_MS = 1000;
/** webhook_attempts.error is bounded: an error text is the receiver's or the network's, not ours to store whole. */
const MAX_ERROR_LENGTH = 500;
const USER_AGENT = 'Plexus-Webhooks/1';

/** A delivery this instance has claimed, with what sending it needs. */
interface ClaimedDelivery {
  id: string;
  event: string;
  body: string;
  attempts: number;
  webhook_id: string;
  url: string;
  salt: string;
}

/** What one attempt came to. */
interface AttemptOutcome {
  delivered: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** The wait before the attempt after `attempts` failed ones: 1 s, 2 s, 4 s… up to `maxMs`. */
export function retryDelayMs(attempts: number, maxMs: number): number {
  return Math.min(1000 * 2 ** Math.max(0, Math.min(attempts - 1, 40)), maxMs);
}

/** An error as stored in webhook_attempts.error: what went wrong, never the request (no body, no secret). */
export function attemptError(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: unknown })?.name;
  let text: string;
  if (name === 'TimeoutError') text = `no answer within ${timeoutMs} ms`;
  else if (error instanceof Error) {
    const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
    const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
    text = detail ? `${error.message}: ${detail}` : error.message;
  } else text = String(error);
  return text.slice(0, MAX_ERROR_LENGTH);
}

/**
 * Sends the webhook deliveries of the outbox (webhook_deliveries, written with the transition):
 * claims due ones so that several instances never send one at once, POSTs each signed body,
 * records every attempt, and retries with backoff until a 2xx or PLEXUS_WEBHOOK_GIVE_UP_SECONDS.
 * A delivery is at least once: a receiver dedupes on `Plexus-Delivery` should an instance die
 * between the receiver's answer and the record of it.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private readonly inFlight = new Set<Promise<void>>();
  private running?: Promise<void>;
  private stopping = false;
  private kicked = false;
  private wake?: () => void;
  private passesStarted = 0;
  private idleWaiters: { after: number; resolve: () => void }[] = [];
  /** The last pass could not reach the deliveries (database away): logged once, and again when it is back. */
  private unreachable = false;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly config: AlertsConfig,
    private readonly secrets: AlertsSecret,
  ) {}

  /** Started once every module is initialised: the alerts secret is loaded by then. */
  onApplicationBootstrap(): void {
    this.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = this.loop();
  }

  /** Claims nothing more; waits for the deliveries in flight to be answered (at most the timeout) and recorded. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    await Promise.all(this.inFlight);
    this.running = undefined;
    for (const waiter of this.idleWaiters.splice(0)) waiter.resolve();
  }

  /** Whether the last look for due deliveries failed (the database away); the loop keeps trying. */
  get failing(): boolean {
    return this.unreachable;
  }

  /** Looks for due deliveries now rather than at the next poll (the evaluator calls it after committing a transition). */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /**
   * Resolves once a pass that started after this call found nothing due and nothing was in flight
   * (or the dispatcher stopped): everything due by then has been attempted and recorded. While
   * the database is away no pass completes, so it waits for it.
   */
  settled(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiters.push({ after: this.passesStarted, resolve });
      this.kick();
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const pass = ++this.passesStarted;
      this.kicked = false;
      let claimed = 0;
      try {
        const room = MAX_IN_FLIGHT - this.inFlight.size;
        if (room > 0) {
          const deliveries = await this.claim(room);
          claimed = deliveries.length;
          for (const delivery of deliveries) this.track(this.deliver(delivery));
        }
        if (this.unreachable) this.logger.log('webhook deliveries are reachable again');
        this.unreachable = false;
        if (claimed === 0 && this.inFlight.size === 0) this.resolveIdle(pass);
      } catch (error) {
        if (!this.unreachable)
          this.logger.warn(`cannot claim webhook deliveries, retrying every ${POLL_MS} ms: ${(error as Error).message}`);
        this.unreachable = true;
      }
      if (this.stopping) break;
      // A full claim may have left more due; otherwise wait for a kick, a finished delivery or the poll.
      if (claimed > 0 && this.inFlight.size < MAX_IN_FLIGHT) continue;
      if (!this.kicked) await this.sleep(POLL_MS);
    }
  }

  private resolveIdle(pass: number): void {
    this.idleWaiters = this.idleWaiters.filter((waiter) => {
      if (pass <= waiter.after) return true;
      waiter.resolve();
      return false;
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake?.(), ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private track(work: Promise<void>): void {
    const tracked = work.finally(() => {
      this.inFlight.delete(tracked);
      this.kick();
    });
    this.inFlight.add(tracked);
  }

  /**
   * Takes up to `limit` due deliveries for twice the attempt timeout: SKIP LOCKED lets instances
   * claim side by side, and claimed_until keeps a claimed one from being taken again until its
   * attempt is recorded — or, should this instance die, until the claim runs out.
   */
  private async claim(limit: number): Promise<ClaimedDelivery[]> {
    // TypeORM answers an UPDATE as [rows RETURNING, affected count].
    const [rows] = (await this.dataSource.query(
      `UPDATE webhook_deliveries d
          SET claimed_until = now() + make_interval(secs => $1::double precision)
         FROM alert_webhooks w
        WHERE d.id IN (SELECT id FROM webhook_deliveries
                        WHERE status = 'pending' AND next_attempt_at <= now()
                          AND (claimed_until IS NULL OR claimed_until <= now())
                        ORDER BY next_attempt_at
                        LIMIT $2
                          FOR UPDATE SKIP LOCKED)
          AND w.id = d.webhook_id AND w.org_id = d.org_id
      RETURNING d.id, d.event, d.body, d.attempts, w.id AS webhook_id, w.url, w.salt`,
      [(this.config.webhookTimeoutMs * 2) / 1000, limit],
    )) as [ClaimedDelivery[], number];
    return rows;
  }

  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    const claimEnds = Date.now() + this.config.webhookTimeoutMs * 2;
    let outcome: AttemptOutcome;
    try {
      outcome = await this.attempt(delivery);
    } catch (error) {
      // Only deriving the secret can land here (the alerts secret not loaded): recorded as a failed attempt.
      outcome = { delivered: false, statusCode: null, error: attemptError(error, this.config.webhookTimeoutMs), durationMs: 0 };
    }
    // The answer is worth keeping while the claim holds: recorded later is better than sent twice
    // (but a stopping instance does not hold its shutdown for it).
    for (;;) {
      try {
        await this.record(delivery, outcome);
        return;
      } catch (error) {
        if (this.stopping || Date.now() + POLL_MS >= claimEnds) {
          this.logger.warn(
            `could not record attempt ${delivery.attempts + 1} of delivery ${delivery.id}; it will be sent again: ${(error as Error).message}`,
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    }
  }

  private async attempt(delivery: ClaimedDelivery): Promise<AttemptOutcome> {
    const secret = this.secrets.secretFor({ id: delivery.webhook_id, salt: delivery.salt });
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': USER_AGENT,
          'Plexus-Event': delivery.event,
          'Plexus-Delivery': delivery.id,
          'Plexus-Signature': signature(secret, delivery.body),
        },
        body: delivery.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.config.webhookTimeoutMs),
      });
      // The answer's body is not wanted: discarded unread, so a huge answer costs nothing.
      await response.body?.cancel().catch(() => undefined);
      const statusCode = response.status;
      const delivered = statusCode >= 200 && statusCode < 300;
      const error = delivered ? null : statusCode >= 300 && statusCode < 400 ? 'redirect not followed' : null;
      return { delivered, statusCode, error, durationMs: elapsed() };
    } catch (error) {
      return { delivered: false, statusCode: null, error: attemptError(error, this.config.webhookTimeoutMs), durationMs: elapsed() };
    }
  }

  /**
   * The attempt and what follows from it, in one statement: delivered; or the next attempt after
   * the backoff (never later than the give-up time, so a last attempt is made then); or, past the
   * give-up time, failed. Only if the delivery is still as claimed: a claim that ran out and was
   * taken by another instance is recorded once, by whichever gets there first.
   */
  private async record(delivery: ClaimedDelivery, outcome: AttemptOutcome): Promise<void> {
    await this.dataSource.query(
      `WITH done AS (
         UPDATE webhook_deliveries
            SET attempts = attempts + 1,
                status = CASE WHEN $3::boolean THEN 'delivered'
                              WHEN now() >= created_at + make_interval(secs => $4::double precision) THEN 'failed'
                              ELSE 'pending' END,
                delivered_at = CASE WHEN $3::boolean THEN now() END,
                next_attempt_at = CASE WHEN $3::boolean THEN next_attempt_at
                                       ELSE least(now() + make_interval(secs => $5::double precision),
                                                  created_at + make_interval(secs => $4::double precision)) END,
                claimed_until = NULL
          WHERE id = $1 AND attempts = $2 AND status = 'pending'
          RETURNING id, attempts)
       INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, duration_ms)
       SELECT id, attempts, $6::integer, $7::text, $8::integer FROM done`,
      [
        delivery.id,
        delivery.attempts,
        outcome.delivered,
        this.config.webhookGiveUpSeconds,
        retryDelayMs(delivery.attempts + 1, this.config.webhookRetryMaxMs) / 1000,
        outcome.statusCode,
        outcome.error,
        outcome.durationMs,
      ],
    );
  }
}
