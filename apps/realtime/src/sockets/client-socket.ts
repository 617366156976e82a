import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { METRICS, type RealtimeErrorCode } from '#common';

interface Queued {
  data: string;
  droppable: boolean;
}

/**
 * One WebSocket with a bounded outbound queue: once the socket's own buffer passes the high
 * water mark, messages wait here; live telemetry beyond `maxDroppable` is dropped oldest-first
 * (and counted), control and output messages are never dropped. A slow reader so never holds
 * up the sender nor anyone else.
 */
export class ClientSocket {
  readonly id = randomUUID();
  dropped = 0;
  alive = true;
  private readonly queue: Queued[] = [];
  private droppableQueued = 0;
  private flushTimer?: NodeJS.Timeout;
  /** While true every message waits in the queue, so one can still be put ahead of them. */
  private held = false;

  constructor(
    readonly ws: WebSocket,
    private readonly highWaterBytes: number,
    private readonly maxDroppable: number,
  ) {
    ws.on('pong', () => (this.alive = true));
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(data: string, droppable = false): void {
    if (!this.open) return;
    if (!this.held && !this.queue.length && this.ws.bufferedAmount < this.highWaterBytes) {
      this.ws.send(data);
      return;
    }
    if (droppable) {
      if (this.droppableQueued >= this.maxDroppable) {
        const oldest = this.queue.findIndex((item) => item.droppable);
        this.queue.splice(oldest, 1);
        this.droppableQueued--;
        this.dropped++;
        METRICS.realtimeDropped.inc();
      }
      this.droppableQueued++;
    }
    this.queue.push({ data, droppable });
    if (!this.held) this.scheduleFlush();
  }

  /** From now until release(), messages are queued (live telemetry still bounded), not sent. */
  hold(): void {
    this.held = true;
  }

  /** Sends `first` ahead of everything held since hold(), then the rest in order. */
  release(first: string): void {
    this.held = false;
    if (!this.open) return;
    this.queue.unshift({ data: first, droppable: false });
    this.flush();
  }

  sendJson(message: object, droppable = false): void {
    this.send(JSON.stringify(message), droppable);
  }

  error(code: RealtimeErrorCode, message: string, extra: Record<string, unknown> = {}): void {
    this.sendJson({ type: 'error', code, message, ...extra });
  }

  close(code: number, reason: string): void {
    clearTimeout(this.flushTimer);
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason.slice(0, 120));
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, 5);
  }

  private flush(): void {
    while (!this.held && this.queue.length && this.open && this.ws.bufferedAmount < this.highWaterBytes) {
      const item = this.queue.shift() as Queued;
      if (item.droppable) this.droppableQueued--;
      this.ws.send(item.data);
    }
    if (!this.held && this.queue.length && this.open) this.scheduleFlush();
  }
}
