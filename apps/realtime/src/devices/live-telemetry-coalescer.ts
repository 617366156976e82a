import { encodeLiveTelemetry, LIVE_TELEMETRY_HEADER_BYTES, liveRecordBytes } from '#common';

interface PendingFrame {
  sourceId: string;
  arrivedAt: number;
  frame: string;
  frameBytes: number;
}

interface PendingBatch {
  frames: PendingFrame[];
  bytes: number;
}

export interface LiveBatch {
  orgId: string;
  payload: Buffer;
  frames: number;
}

export interface CoalescerDrain {
  batches: LiveBatch[];
  /** Frames older than the ceiling when their turn came, dropped here (also told to browsers in `dropped`). */
  late: number;
  /** Frames that cannot fit one broker message whatever else is in it, dropped. */
  oversized: number;
}

/**
 * Live telemetry frames of one event-loop turn, per org, waiting to go out as one NATS message
 * each (`LiveTelemetryBatch`): one publish and one broker delivery per org and turn instead of
 * one per frame. Frames older than `maxAgeMs` when drained are dropped and counted; the count
 * rides in the org's next message, so its browsers hear of it. Pure: the caller drains it once
 * per turn and publishes.
 */
export class LiveTelemetryCoalescer {
  private readonly pending = new Map<string, PendingBatch[]>();

  constructor(
    private readonly maxAgeMs: number,
    /** The broker's payload bound: no batch is larger. */
    private readonly maxBatchBytes: number,
  ) {}

  get empty(): boolean {
    return this.pending.size === 0;
  }

  /** `frame` is the browser's telemetry frame (starting with `{"source_id":…,`), `arrivedAt` when its bytes were read. */
  add(orgId: string, sourceId: string, frame: string, arrivedAt: number): void {
    const frameBytes = Buffer.byteLength(frame);
    const recordBytes = liveRecordBytes(sourceId, frameBytes);
    let batches = this.pending.get(orgId);
    if (!batches) {
      batches = [];
      this.pending.set(orgId, batches);
    }
    let last = batches[batches.length - 1];
    if (!last || last.bytes + recordBytes > this.maxBatchBytes) {
      last = { frames: [], bytes: LIVE_TELEMETRY_HEADER_BYTES };
      batches.push(last);
    }
    last.frames.push({ sourceId, arrivedAt, frame, frameBytes });
    last.bytes += recordBytes;
  }

  /** Everything pending, as messages to publish now; frames past the ceiling are dropped. */
  drain(now: number): CoalescerDrain {
    const result: CoalescerDrain = { batches: [], late: 0, oversized: 0 };
    for (const [orgId, batches] of this.pending) {
      let dropped = 0;
      for (const batch of batches) {
        if (batch.bytes > this.maxBatchBytes) {
          // Only a lone frame ends up alone over the bound (add() starts a new batch otherwise).
          result.oversized += batch.frames.length;
          continue;
        }
        const oldestAllowed = now - this.maxAgeMs;
        const fresh = batch.frames.every((frame) => frame.arrivedAt >= oldestAllowed)
          ? batch.frames
          : batch.frames.filter((frame) => frame.arrivedAt >= oldestAllowed);
        const late = batch.frames.length - fresh.length;
        result.late += late;
        dropped += late;
        if (!fresh.length) continue;
        result.batches.push({ orgId, payload: encodeLiveTelemetry(now, dropped, fresh), frames: fresh.length });
        dropped = 0;
      }
      if (dropped > 0) {
        // Everything of the org was late: the count alone still goes out, so its browsers know.
        result.batches.push({ orgId, payload: encodeLiveTelemetry(now, dropped, []), frames: 0 });
      }
    }
    this.pending.clear();
    return result;
  }
}
