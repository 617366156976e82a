import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** CPU seconds (user + system) used so far, summed per label, of the processes `label` names. */
export type CpuSeconds = Map<string, number>;

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
        // Fields after the command name (which may hold spaces and parentheses): utime is the 12th, stime the 13th.
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        seconds.set(label, (seconds.get(label) ?? 0) + (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
      } catch {
        // The process ended meanwhile.
      }
    }
    return seconds;
  }
}

/** CPU microseconds per point of each label between two readings, in `order`. */
export function perPoint(before: CpuSeconds, after: CpuSeconds, points: number, order: string[]): Map<string, number> {
  return new Map(order.map((label) => [label, (((after.get(label) ?? 0) - (before.get(label) ?? 0)) * 1e6) / points]));
}
