import { type ChildProcess, spawn } from 'node:child_process';
// Type only (erased): the frame is defined once, by the wire schema in libs/common.
import type { DeviceEventFrame } from '../../../../libs/common/src/wire/index.js';

export type OutputEvent = DeviceEventFrame<'output'>;

/**
 * Runs remote commands in a shell, each in its own process group so `cancel` can end the
 * whole tree (a `sleep` under a `sh -c`, a pipeline), streaming output line by line.
 */
export class CommandRunner {
  private readonly running = new Map<string, ChildProcess>();

  constructor(private readonly emit: (event: OutputEvent) => void) {}

  execute(id: string, command: string): void {
    if (this.running.has(id)) {
      this.emit({ type: 'output', id, event: 'error', error: `a command with id "${id}" is already running` });
      return;
    }
    const child = spawn('/bin/sh', ['-c', command], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.running.set(id, child);
    this.emit({ type: 'output', id, event: 'start', command });
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => {
        pending += text;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) this.emit({ type: 'output', id, event: 'data', data: line });
      });
      stream?.on('end', () => {
        if (pending) this.emit({ type: 'output', id, event: 'data', data: pending });
        pending = '';
      });
    }
    child.on('error', (error) => {
      this.running.delete(id);
      this.emit({ type: 'output', id, event: 'error', error: error.message });
    });
    child.on('close', (code, signal) => {
      this.running.delete(id);
      this.emit({ type: 'output', id, event: 'exit', code: code ?? (signal ? 128 + signalNumber(signal) : null) });
    });
  }

  /** Ends one command's process tree, or every running command's: SIGTERM, then SIGKILL after a second. */
  cancel(id?: string): number {
    const targets = id ? [...this.running.entries()].filter(([key]) => key === id) : [...this.running.entries()];
    for (const [, child] of targets) {
      const group = child.pid;
      if (group === undefined) continue;
      killGroup(group, 'SIGTERM');
      setTimeout(() => killGroup(group, 'SIGKILL'), 1000).unref();
    }
    return targets.length;
  }

  get count(): number {
    return this.running.size;
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 0;
}
