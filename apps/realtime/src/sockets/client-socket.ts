import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { CLOSE_CODES, type ErrorFrame, METRICS, type RealtimeErrorCode } from '#common';
import { guarded } from './unexpected.js';

interface Queued {
  data: string;
  bytes: number;
  droppable: boolean;
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
  ) {
    ws.on('pong', () => (this.alive = true));
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN && !this.overflowed;
  }

  send(data: string, droppable = false): void {
    if (!this.open) return;
    if (!this.held && !this.queue.length && this.ws.bufferedAmount < this.limits.highWaterBytes) {
      this.ws.send(data);
      return;
    }
    const bytes = Buffer.byteLength(data);
    if (droppable && this.droppableQueued >= this.limits.maxDroppable) this.dropOldest();
    while (this.queuedBytes + bytes > this.limits.maxQueueBytes && this.droppableQueued > 0) this.dropOldest();
    if (this.queuedBytes + bytes > this.limits.maxQueueBytes) {
      if (droppable) this.countDropped();
      else this.overflow('send queue full');
      return;
    }
    if (!this.queue.length) this.lastProgressAt = Date.now();
    this.push({ data, bytes, droppable });
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
    this.queue.unshift({ data: first, bytes, droppable: false });
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

  close(code: number, reason: string): void {
    clearTimeout(this.flushTimer);
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
  }

  /** The peer does not read: free what waits for it and close. Its own buffer (≤ high water + one frame) goes with the socket. */
  private overflow(reason: string): void {
    this.overflowed = true;
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
    while (!this.held && this.queue.length && this.open && this.ws.bufferedAmount < this.limits.highWaterBytes) {
      this.ws.send(this.shift().data);
      this.lastProgressAt = Date.now();
    }
    if (this.held || !this.queue.length || !this.open) return;
    if (Date.now() - this.lastProgressAt > this.limits.stallMs) this.overflow('send queue not draining');
    else this.scheduleFlush();
  }
}
