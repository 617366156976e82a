import { randomUUID } from 'node:crypto';
import { PlexusError } from './errors.js';
import {
  type BatchPoint,
  fromBatchPoint,
  ingestBodies,
  MAX_POINTS_PER_REQUEST,
  type PointValue,
  type SendOptions,
  toWirePoint,
  type WirePoint,
} from './points.js';
import { defaultSleep, type RetryPolicy, retryPolicy, type Sleep, withRetries } from './retry.js';
import { newSessionId, type PlexusSession, type SessionOptions } from './session.js';
import { encodeJson, request, type TransportOptions } from './transport.js';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8080';
const SOURCE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export interface PlexusOptions {
  /** Falls back to PLEXUS_API_KEY. */
  apiKey?: string;
  /** Stamped on every point; falls back to PLEXUS_SOURCE_ID. */
  sourceId?: string;
  /** Falls back to PLEXUS_ENDPOINT, then http://127.0.0.1:8080. */
  endpoint?: string;
  /** Queued points are sent as soon as this many are waiting (default 100, at most 10,000). */
  batchSize?: number;
  /** A queued point waits at most this long before it is sent (default 1000; 0 turns the timer off). */
  flushIntervalMs?: number;
  /** Gzip request bodies over 1 KiB (default true). */
  gzip?: boolean;
  /** Per request, including reading the answer (default 30,000). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  fetch?: typeof fetch;
  sleep?: Sleep;
  /**
   * Told about every queued point that could not be delivered, so that fire-and-forget
   * `send` calls do not lose data silently. Default: one line on stderr per failed batch.
   */
  onError?: (error: PlexusError, lostPoints: number) => void;
}

interface QueuedPoint {
  point: WirePoint;
  resolve: () => void;
  reject: (error: PlexusError) => void;
}

/** The answer of POST /api/ingest and POST /api/sessions, as far as the SDK reads them. */
interface Answer {
  accepted?: unknown;
  session_id?: unknown;
}

/**
 * Sends telemetry to a Plexus platform over HTTP.
 *
 *   const px = new Plexus({ apiKey: 'plx_…', sourceId: 'rig-1' });
 *   await px.send('temperature', 21.5);   // resolves once the platform has stored it
 *   await px.close();
 */
export class Plexus {
  readonly sourceId: string;
  readonly endpoint: string;
  private readonly transport: TransportOptions;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly policy: RetryPolicy;
  private readonly sleep: Sleep;
  private readonly onError: (error: PlexusError, lostPoints: number) => void;
  private queue: QueuedPoint[] = [];
  /** Batches go out one at a time, in order: the tail of that chain. */
  private delivering: Promise<unknown> = Promise.resolve();
  private readonly inFlight = new Set<Promise<PlexusError | undefined>>();
  private timer?: NodeJS.Timeout;
  private armed = false;
  private closed = false;

  constructor(options: PlexusOptions = {}) {
    const apiKey = options.apiKey || process.env.PLEXUS_API_KEY;
    if (!apiKey) throw new PlexusError('no API key: pass { apiKey } or set PLEXUS_API_KEY');
    const sourceId = options.sourceId || process.env.PLEXUS_SOURCE_ID;
    if (!sourceId) throw new PlexusError('no source id: pass { sourceId } or set PLEXUS_SOURCE_ID');
    if (!SOURCE_ID.test(sourceId)) {
      throw new PlexusError(
        `invalid source id "${sourceId}": 1 to 128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit`,
      );
    }
    const batchSize = options.batchSize ?? 100;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_POINTS_PER_REQUEST) {
      throw new PlexusError(`batchSize must be an integer from 1 to ${MAX_POINTS_PER_REQUEST}, got ${batchSize}`);
    }
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') throw new PlexusError('no fetch: use Node 18 or later, or pass { fetch }');

    this.sourceId = sourceId;
    this.endpoint = (options.endpoint || process.env.PLEXUS_ENDPOINT || DEFAULT_ENDPOINT).replace(/\/+$/, '');
    this.transport = {
      endpoint: this.endpoint,
      apiKey,
      fetch: fetchImpl,
      gzip: options.gzip ?? true,
      timeoutMs: options.timeoutMs ?? 30_000,
    };
    this.batchSize = batchSize;
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.policy = retryPolicy(options.retry);
    this.sleep = options.sleep ?? defaultSleep;
    this.onError = options.onError ?? logError;
  }

  /**
   * Queues one point. Resolves when its batch is accepted (stored by the platform), rejects
   * with that batch's error. Not awaiting it is fine: failures also reach `onError`.
   * Awaiting each call of a loop waits up to flushIntervalMs per point; to stream fast, send
   * without awaiting and `await flush()` at the points that must be stored.
   */
  send(metric: string, value: PointValue, options: SendOptions = {}): Promise<void> {
    let queued: Promise<void>;
    try {
      if (this.closed) throw new PlexusError('this Plexus client is closed');
      const point = toWirePoint({ ...options, metric, value }, this.sourceId);
      queued = new Promise<void>((resolve, reject) => this.queue.push({ point, resolve, reject }));
      this.dispatchFullBatches();
    } catch (error) {
      const plexusError = asPlexusError(error);
      this.report(plexusError, 1);
      queued = Promise.reject(plexusError);
    }
    // A caller that does not await must not crash the process with an unhandled rejection;
    // awaiting the returned promise still sees the error.
    queued.catch(() => undefined);
    return queued;
  }

  /** Sends these points now (not through the queue), in requests of at most 10,000 points, with retries. */
  async sendBatch(points: BatchPoint[]): Promise<{ accepted: number }> {
    if (this.closed) throw new PlexusError('this Plexus client is closed');
    const nowMs = Date.now();
    const wirePoints = points.map((point) => toWirePoint(fromBatchPoint(point), this.sourceId, nowMs));
    return { accepted: await this.post(wirePoints) };
  }

  /** Sends everything queued; resolves when all of it (and any batch already on its way) is stored. */
  async flush(): Promise<void> {
    this.disarm();
    while (this.queue.length > 0) this.dispatch(this.queue.splice(0, this.batchSize));
    const failures = (await Promise.all([...this.inFlight])).filter((error) => error !== undefined);
    if (failures.length > 0) throw failures[0];
  }

  /** Flushes and stops the timer; later `send` calls are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /**
   * Records `fn` as a session: creates it (status active), gives `fn` a `send` that files
   * points under it, flushes, then marks it completed — or failed, rethrowing, if `fn` throws.
   */
  async session<T>(name: string, fn: (session: PlexusSession) => T | Promise<T>, options: SessionOptions = {}): Promise<T> {
    if (this.closed) throw new PlexusError('this Plexus client is closed');
    const requestedId = options.sessionId ?? newSessionId();
    const created = (await this.call('POST', '/api/sessions', {
      session_id: requestedId,
      name,
      source_id: this.sourceId,
      status: 'active',
      ...(options.tags ? { tags: options.tags } : {}),
    })) as Answer | undefined;
    const id = typeof created?.session_id === 'string' ? created.session_id : requestedId;
    const session: PlexusSession = {
      id,
      name,
      send: (metric, value, sendOptions = {}) => this.send(metric, value, { ...sendOptions, sessionId: id }),
    };

    let result: T;
    try {
      result = await fn(session);
    } catch (error) {
      const endedAt = new Date();
      // What was recorded before the failure is still worth keeping; a delivery error here
      // has already reached onError and must not hide the callback's own error.
      await this.flush().catch(() => undefined);
      await this.endSession(id, 'failed', endedAt).catch((patchError: unknown) => this.report(asPlexusError(patchError), 0));
      throw error;
    }
    const endedAt = new Date();
    try {
      await this.flush();
    } catch (error) {
      await this.endSession(id, 'failed', endedAt).catch((patchError: unknown) => this.report(asPlexusError(patchError), 0));
      throw error;
    }
    await this.endSession(id, 'completed', endedAt);
    return result;
  }

  private endSession(id: string, status: 'completed' | 'failed', endedAt: Date): Promise<unknown> {
    return this.call('PATCH', `/api/sessions/${encodeURIComponent(id)}`, { status, ended_at: endedAt.toISOString() });
  }

  private async call(method: string, path: string, body: unknown): Promise<unknown> {
    const encoded = await encodeJson(JSON.stringify(body), this.transport.gzip);
    return withRetries(() => request(this.transport, method, path, encoded), this.policy, this.sleep);
  }

  /** POST /api/ingest, one request per body; each body keeps one Idempotency-Key across its retries. */
  private async post(points: WirePoint[]): Promise<number> {
    let accepted = 0;
    for (const body of ingestBodies(points)) {
      const idempotencyKey = randomUUID();
      const encoded = await encodeJson(body.json, this.transport.gzip);
      const answer = (await withRetries(
        () => request(this.transport, 'POST', '/api/ingest', encoded, { 'idempotency-key': idempotencyKey }),
        this.policy,
        this.sleep,
      )) as Answer | undefined;
      accepted += typeof answer?.accepted === 'number' ? answer.accepted : body.count;
    }
    return accepted;
  }

  private dispatchFullBatches(): void {
    while (this.queue.length >= this.batchSize) this.dispatch(this.queue.splice(0, this.batchSize));
    if (this.queue.length > 0) this.arm();
    else this.disarm();
  }

  private dispatch(batch: QueuedPoint[]): void {
    const delivered = this.delivering.then(() => this.deliver(batch));
    this.delivering = delivered;
    this.inFlight.add(delivered);
    void delivered.then(() => this.inFlight.delete(delivered));
  }

  /** Never rejects: the outcome goes to the batch's points, and a failure is also returned for flush(). */
  private async deliver(batch: QueuedPoint[]): Promise<PlexusError | undefined> {
    try {
      await this.post(batch.map((queued) => queued.point));
      for (const queued of batch) queued.resolve();
      return undefined;
    } catch (error) {
      const plexusError = asPlexusError(error);
      for (const queued of batch) queued.reject(plexusError);
      this.report(plexusError, batch.length);
      return plexusError;
    }
  }

  /**
   * While points wait in the queue: a timer sends them after flushIntervalMs, unref'd so an
   * idle client never keeps the process alive; and a beforeExit hook sends them when the
   * process would otherwise end with them unsent (a script's `await px.send()` with nothing
   * else running). Both go away as soon as the queue is empty.
   */
  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    process.on('beforeExit', this.flushBeforeExit);
    if (this.flushIntervalMs > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush().catch(() => undefined);
      }, this.flushIntervalMs);
      this.timer.unref();
    }
  }

  private disarm(): void {
    if (!this.armed) return;
    this.armed = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    process.off('beforeExit', this.flushBeforeExit);
  }

  // Failures were reported through onError and the points' promises already.
  private readonly flushBeforeExit = (): void => {
    this.flush().catch(() => undefined);
  };

  private report(error: PlexusError, lostPoints: number): void {
    try {
      this.onError(error, lostPoints);
    } catch {
      // A throwing error handler must not break delivery of the other batches.
    }
  }
}

function logError(error: PlexusError, lostPoints: number): void {
  const lost = lostPoints > 0 ? ` ${lostPoints} point${lostPoints === 1 ? '' : 's'} not sent:` : '';
  console.error(`plexus:${lost} ${error.message}`);
}

function asPlexusError(error: unknown): PlexusError {
  if (error instanceof PlexusError) return error;
  return new PlexusError(error instanceof Error ? error.message : String(error), { cause: error });
}
