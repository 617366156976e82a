/**
 * Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC, what process.hrtime reads):
 * one clock for every process on the machine, so a sender in one process and a receiver in
 * another measure a message's delay without wall-clock steps or per-process offsets.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}
