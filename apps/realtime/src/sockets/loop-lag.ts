/** How often the lag probe runs; its own period is not lag. */
const PROBE_MS = 20;
/** A lag measured this recently still counts (the sockets it held up may be read after the probe ran). */
const REMEMBER_MS = 1000;

/**
 * How late this process's event loop is running. A probe timer notes when it last ran and by how
 * much it fired late; `lateBy(now)` is the larger of the time since the probe last ran (the loop
 * is busy or was blocked right now) and the largest lag it measured in the last second. While
 * the loop is late, bytes wait unread in the kernel: whatever is read now may have arrived that
 * much earlier.
 */
export class LoopLag {
  private timer?: NodeJS.Timeout;
  private lastProbeAt: number;
  private recentLag = 0;
  private recentLagAt = 0;

  constructor(private readonly clock: () => number = Date.now) {
    this.lastProbeAt = clock();
  }

  start(): void {
    this.lastProbeAt = this.clock();
    this.timer = setInterval(() => this.probe(), PROBE_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The probe's tick; public so a test can drive it with its own clock. */
  probe(): void {
    const now = this.clock();
    const lag = now - this.lastProbeAt - PROBE_MS;
    this.lastProbeAt = now;
    if (lag > this.recentLag || now - this.recentLagAt > REMEMBER_MS) {
      this.recentLag = Math.max(0, lag);
      this.recentLagAt = now;
    }
  }

  lateBy(now: number): number {
    const sinceProbe = now - this.lastProbeAt - PROBE_MS;
    const recent = now - this.recentLagAt <= REMEMBER_MS ? this.recentLag : 0;
    return Math.max(0, sinceProbe, recent);
  }
}
