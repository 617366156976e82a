import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';

/** A process's open-file limit (RLIMIT_NOFILE) as /proc shows it; undefined off Linux. */
export interface FileLimit {
  soft: number;
  hard: number;
}

export function fileLimitOf(pid: number | 'self'): FileLimit | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
      .split('\n')
      .find((row) => row.startsWith('Max open files'));
    const [soft, hard] = (line ?? '').split(/\s+/).slice(3, 5);
    const value = (text: string) => (text === 'unlimited' ? Infinity : Number(text));
    return line ? { soft: value(soft), hard: value(hard) } : undefined;
  } catch {
    return undefined;
  }
}

/** Descriptors the process has open right now. */
export function openFiles(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * Raises a running process's soft open-file limit to its hard limit with util-linux `prlimit`
 * (allowed without privileges; going past the hard limit needs CAP_SYS_RESOURCE, which is the
 * operator's job: ulimit -n, LimitNOFILE, the container runtime). Answers the limit it then has
 * and, when it could not raise it, why.
 */
export async function raiseFileLimit(pid: number): Promise<{ limit?: FileLimit; problem?: string }> {
  const before = fileLimitOf(pid);
  if (!before) return { problem: 'no /proc: limit unknown' };
  if (before.soft >= before.hard) return { limit: before };
  try {
    await promisify(execFile)('prlimit', [`--pid=${pid}`, `--nofile=${before.hard}:${before.hard}`]);
    return { limit: fileLimitOf(pid) };
  } catch (error) {
    return { limit: before, problem: `prlimit failed: ${(error as Error).message.split('\n')[0]}` };
  }
}
