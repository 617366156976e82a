import { existsSync, readdirSync, readFileSync } from 'node:fs';

/**
 * CPU seconds (user + system) used so far by each counted process, by label and process id. Kept
 * per process: a process that ends between two readings (a PostgreSQL backend, say) must not take
 * its whole past off the difference — summed per label, that once printed −14 µs a point.
 */
export type CpuSeconds = Map<string, Map<number, number>>;

const TICKS_PER_SECOND = 100;

/**
 * CPU time per process from /proc (Linux; elsewhere every reading is empty): where a point's cost
 * goes, beside the rate. `label(pid, commandLine)` names the processes to count (several may share
 * a label) and skips the rest by answering undefined.
 */
export class ProcessCpu {
  readonly available = existsSync('/proc/self/stat');

  constructor(private readonly label: (pid: number, commandLine: string) => string | undefined) {}

  read(): CpuSeconds {
    const seconds: CpuSeconds = new Map();
    if (!this.available) return seconds;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const label = this.label(Number(entry), readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' '));
        if (label === undefined) continue;
        let byPid = seconds.get(label);
        if (!byPid) seconds.set(label, (byPid = new Map()));
        byPid.set(Number(entry), cpuTicks(`/proc/${entry}/stat`) / TICKS_PER_SECOND);
      } catch {
        // The process ended meanwhile.
      }
    }
    return seconds;
  }
}

/**
 * CPU microseconds per point of each label between two readings, in `order`: per process, what it
 * used between them (all it used, for one started after the first reading). What a process that
 * ended between them used after the first reading is not known, and not counted.
 */
export function perPoint(before: CpuSeconds, after: CpuSeconds, points: number, order: string[]): Map<string, number> {
  return new Map(
    order.map((label) => {
      let used = 0;
      for (const [pid, now] of after.get(label) ?? []) used += now - (before.get(label)?.get(pid) ?? 0);
      return [label, (used * 1e6) / points];
    }),
  );
}

/** user + system ticks of a process or thread, from its /proc stat file. */
function cpuTicks(statFile: string): number {
  // Fields after the command name (which may hold spaces and parentheses): utime is the 12th, stime the 13th.
  const stat = readFileSync(statFile, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU ticks used so far by this process's threads other than the main one (V8's GC and compiler helpers); 0 where /proc is absent. */
function helperThreadTicks(): number {
  if (!existsSync('/proc/self/task')) return 0;
  let ticks = 0;
  for (const task of readdirSync('/proc/self/task')) {
    if (Number(task) === process.pid) continue;
    try {
      ticks += cpuTicks(`/proc/self/task/${task}/stat`);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return ticks;
}

const QUIET_MS = 100;
const SETTLE_DEADLINE_MS = 10_000;

/**
 * Reads `sample` every `intervalMs` until `settled(before, now)` holds between one reading and
 * the next, or SETTLE_DEADLINE_MS passed; answers whether it settled.
 */
async function waitForQuiet<T>(intervalMs: number, sample: () => T, settled: (before: T, now: T) => boolean): Promise<boolean> {
  const deadline = Date.now() + SETTLE_DEADLINE_MS;
  let before = sample();
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    const now = sample();
    if (settled(before, now)) return true;
    before = now;
  }
  return false;
}

/**
 * Collects the load generator's garbage before a timed span and waits until V8's helper threads
 * have finished with it (no CPU for 100 ms, 10 s at most): gc() returns with the sweeping still
 * to do on those threads, and until 2026-12-02 that work — of the many megabytes of bodies built
 * for every scenario — ran inside the first timed span and was counted as the bench's CPU
 * (1.0–1.4 µs a point against 0.3–0.4 once settled), on the 2 cores the platform was measured on.
 * Needs node --expose-gc (npm run bench:ingest); without it, nothing is collected.
 */
export async function settleGarbage(): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  await waitForQuiet(QUIET_MS, helperThreadTicks, (before, now) => now === before);
}

/** Busy and total jiffies of the whole machine (the "cpu" line of /proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal …: idle and iowait are not busy.
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - fields[3] - fields[4], total };
}

const QUIET_WINDOW_MS = 200;
/** Busy share of all cores below which the machine counts as quiet (0.1 = a fifth of one of two cores). */
const QUIET_SHARE = 0.1;

/**
 * Waits until the machine is quiet — less than QUIET_SHARE of its CPU busy over QUIET_WINDOW_MS —
 * or SETTLE_DEADLINE_MS passed; answers whether it was (true where /proc is absent). A peer's
 * background work after its own round (PostgreSQL's WAL writer and checkpoints, influxd's cache
 * snapshots and compactions) must not run in the other peer's span when the peers alternate.
 */
export async function quietMachine(): Promise<boolean> {
  if (!existsSync('/proc/stat')) return true;
  return waitForQuiet(QUIET_WINDOW_MS, machineTicks, (before, now) => {
    const total = now.total - before.total;
    return total > 0 && (now.busy - before.busy) / total < QUIET_SHARE;
  });
}
