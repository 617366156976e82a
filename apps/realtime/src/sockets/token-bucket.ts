/**
 * A token bucket: `rate` tokens a second, up to `burst` saved. It is measured on arrival time:
 * `take(at, lateMs)` is given when the message's bytes were read from the socket, and how late
 * the server was running then (event-loop lag). While the server ran late, a device's messages
 * waited in the kernel and are read together; up to `rate × lateMs` more tokens may be saved for
 * them, so a device inside its limit is never limited for the server's slowness. A device over
 * its limit still is: the bucket refills only with time that passed.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now = Date.now(),
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  take(at = Date.now(), lateMs = 0): boolean {
    const elapsed = at - this.updatedAt;
    const ceiling = this.burst + (Math.max(0, lateMs) / 1000) * this.rate;
    if (elapsed > 0) {
      this.tokens = Math.min(ceiling, this.tokens + (elapsed / 1000) * this.rate);
      this.updatedAt = at;
    } else {
      this.tokens = Math.min(ceiling, this.tokens);
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
