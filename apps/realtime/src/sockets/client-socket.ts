import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import { CLOSE_CODES, type ErrorFrame, METRICS, type RealtimeErrorCode, type TelemetryDroppedFrame } from '#common';
import { guarded } from './unexpected.js';

/** Frames are JSON text, also when handed over as the bytes of a batch. */
const TEXT = { binary: false } as const;
/** A browser hears of dropped telemetry at most this often. */
const DROP_REPORT_EVERY_MS = 1000;

/** Where live telemetry was dropped for being older than the ceiling, for the metric's `hop` label. */
export type LateHop = 'publish' | 'fanout' | 'queue';

interface Queued {
  data: string | Buffer;
  bytes: number;
  droppable: boolean;
  /** Live telemetry: when its bytes were read from the device (Unix ms). */
  arrivedAt: number;
}

export interface SendQueueLimits {
  /** Bytes in the socket's own buffer before messages start waiting in the queue. */
  highWaterBytes: number;
  /** Bytes the queue may hold, every message counted; past it a non-droppable message closes with 4013. */
  maxQueueBytes: number;
  /** Live telemetry the queue may hold; beyond it the oldest is dropped. */
  maxDroppable: number;
  /** A queue that makes no progress for this long closes the socket with 4013. */
  stallMs: number;
  /** Live telemetry older than this (since it was read from the device) is dropped, not sent. */
  telemetryMaxAgeMs: number;
}

/** Sockets closed with 4013 by this instance, for `/stats`. */
export const sendQueueCloses = { count: 0 };

/**
 * One WebSocket with an outbound queue bounded in bytes: once the socket's own buffer passes
 * the high-water mark, messages wait here. Live telemetry is dropped oldest-first (and counted)
 * to make room; when a message that must not be dropped (control, output, errors) would pass
 * the byte bound, or the queue has not moved for `stallMs`, the peer is not reading: the socket
 * is closed with 4013 and its queue freed. A slow reader so never holds up the sender, nor
 * costs more than its bound.
 */
export class ClientSocket {
  readonly id = randomUUID();
  dropped = 0;
  alive = true;
  /**
   * When the last bytes from the peer were read from the kernel (Unix ms): the arrival time of
   * every frame parsed from them, however long the server then takes to get to each.
   */
  readAt = Date.now();
  /** Browsers are told of dropped telemetry (`telemetry_dropped`); devices are never sent any. */
  reportsDrops = false;
  private untoldLate = 0;
  private untoldOverflow = 0;
  private lastReportAt = 0;
  private reportTimer?: NodeJS.Timeout;
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private droppableQueued = 0;
  private lastProgressAt = Date.now();
  private flushTimer?: NodeJS.Timeout;
  /** While true every message waits in the queue, so one can still be put ahead of them. */
  private held = false;
  private overflowed = false;

  constructor(
    readonly ws: WebSocket,
    private readonly limits: SendQueueLimits,
    /** The TCP socket under `ws`, when there is one: its reads stamp `readAt`, and writes to it can be corked. */
    private readonly raw?: Duplex,
  ) {
    ws.on('pong', () => (this.alive = true));
    // Ahead of ws's own listener, so the stamp is set before the frames of these bytes are parsed.
    raw?.prependListener('data', () => {
      this.readAt = Date.now();
    });
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN && !this.overflowed;
  }

  /** `arrivedAt`: for live telemetry (`droppable`), when it was read from the device. */
  send(data: string | Buffer, droppable = false, arrivedAt = 0): void {
    if (!this.open) return;
    if (!this.held && !this.queue.length && this.ws.bufferedAmount < this.limits.highWaterBytes) {
      this.ws.send(data, TEXT);
      return;
    }
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (droppable && this.droppableQueued >= this.limits.maxDroppable) this.dropOldest();
    while (this.queuedBytes + bytes > this.limits.maxQueueBytes && this.droppableQueued > 0) this.dropOldest();
    if (this.queuedBytes + bytes > this.limits.maxQueueBytes) {
      if (droppable) this.countDropped();
      else this.overflow('send queue full');
      return;
    }
    if (!this.queue.length) this.lastProgressAt = Date.now();
    this.push({ data, bytes, droppable, arrivedAt });
    if (!this.held) this.scheduleFlush();
  }

  /** From now until release(), messages are queued (within the same bounds), not sent. */
  hold(): void {
    this.held = true;
  }

  /** Sends `first` ahead of everything held since hold(), then the rest in order. */
  release(first: string): void {
    this.held = false;
    if (!this.open) return;
    const bytes = Buffer.byteLength(first);
    this.queue.unshift({ data: first, bytes, droppable: false, arrivedAt: 0 });
    this.queuedBytes += bytes;
    this.lastProgressAt = Date.now();
    this.flush();
  }

  sendJson(message: object, droppable = false): void {
    this.send(JSON.stringify(message), droppable);
  }

  /** `extra` names the command answered (`source_id`, `id`), echoed only when within bounds. */
  error(code: RealtimeErrorCode, message: string, extra: Pick<ErrorFrame, 'source_id' | 'id'> = {}): void {
    const frame: ErrorFrame = { type: 'error', code, message, ...extra };
    this.sendJson(frame);
  }

  /** Many sends in a row (a batch's frames) leave in one write: cork, send them, then uncork. */
  cork(): void {
    this.raw?.cork();
  }

  uncork(): void {
    this.raw?.uncork();
  }

  /** Live telemetry for this browser dropped elsewhere (older than the ceiling): counted and reported. */
  droppedLate(count: number, hop: LateHop): void {
    if (count <= 0) return;
    this.dropped += count;
    METRICS.realtimeDropped.inc(count);
    METRICS.realtimeDroppedLate.inc({ hop }, count);
    this.untoldLate += count;
    this.scheduleReport();
  }

  close(code: number, reason: string): void {
    clearTimeout(this.flushTimer);
    clearTimeout(this.reportTimer);
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason.slice(0, 120));
  }

  private push(item: Queued): void {
    this.queue.push(item);
    this.queuedBytes += item.bytes;
    if (item.droppable) this.droppableQueued++;
  }

  private shift(): Queued {
    const item = this.queue.shift() as Queued;
    this.queuedBytes -= item.bytes;
    if (item.droppable) this.droppableQueued--;
    return item;
  }

  private dropOldest(): void {
    const oldest = this.queue.findIndex((item) => item.droppable);
    const [item] = this.queue.splice(oldest, 1);
    this.queuedBytes -= item.bytes;
    this.droppableQueued--;
    this.countDropped();
  }

  private countDropped(): void {
    this.dropped++;
    METRICS.realtimeDropped.inc();
    this.untoldOverflow++;
    this.scheduleReport();
  }

  /** At most one `telemetry_dropped` a second, only when something was dropped since the last. */
  private scheduleReport(): void {
    if (!this.reportsDrops || this.reportTimer) return;
    const wait = Math.max(0, this.lastReportAt + DROP_REPORT_EVERY_MS - Date.now());
    this.reportTimer = setTimeout(
      guarded('telemetry drop report', () => {
        this.reportTimer = undefined;
        this.report();
      }),
      wait,
    );
  }

  private report(): void {
    const late = this.untoldLate;
    const overflow = this.untoldOverflow;
    if (late + overflow === 0 || !this.open) return;
    this.untoldLate = 0;
    this.untoldOverflow = 0;
    this.lastReportAt = Date.now();
    const frame: TelemetryDroppedFrame = { type: 'telemetry_dropped', count: late + overflow, late, overflow };
    this.sendJson(frame);
  }

  /** The peer does not read: free what waits for it and close. Its own buffer (≤ high water + one frame) goes with the socket. */
  private overflow(reason: string): void {
    this.overflowed = true;
    clearTimeout(this.reportTimer);
    sendQueueCloses.count++;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.droppableQueued = 0;
    this.close(CLOSE_CODES.sendQueueFull, reason);
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(
      guarded('send queue flush', () => {
        this.flushTimer = undefined;
        this.flush();
      }),
      5,
    );
  }

  private flush(): void {
    const oldestAllowed = Date.now() - this.limits.telemetryMaxAgeMs;
    let late = 0;
    while (!this.held && this.queue.length && this.open && this.ws.bufferedAmount < this.limits.highWaterBytes) {
      const item = this.shift();
      this.lastProgressAt = Date.now();
      if (item.droppable && item.arrivedAt < oldestAllowed) late++;
      else this.ws.send(item.data, TEXT);
    }
    if (late) this.droppedLate(late, 'queue');
    if (this.held || !this.queue.length || !this.open) return;
    if (Date.now() - this.lastProgressAt > this.limits.stallMs) this.overflow('send queue not draining');
    else this.scheduleFlush();
  }
}
