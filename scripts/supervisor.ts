import { type AppName, appPort, spawnApp, type SpawnedApp } from './platform-process.js';

/**
 * How long to wait before restarting an app that exited: 0.5 s, doubling with each exit in a row
 * up to 30 s, so a crash loop neither spins the CPU nor floods the log. An app that stayed ready
 * for a minute before it died starts the count again.
 */
export const RESTART_POLICY = { firstDelayMs: 500, maxDelayMs: 30_000, resetAfterReadyMs: 60_000 } as const;

export function restartDelayMs(exitsInARow: number, policy = RESTART_POLICY): number {
  return Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** Math.max(0, exitsInARow - 1));
}

const READY_POLL_MS = 500;

export type Print = (app: string, line: string) => void;
/** Takes one line of an app's own output (its logs), from its stdout or stderr. */
export type AppLine = (app: AppName, line: string, stream: 'stdout' | 'stderr') => void;

/**
 * One app kept running by `npm start`: started again with backoff whenever it exits, until the
 * platform stops. Every exit is reported on a line of its own.
 */
export class SupervisedApp {
  private current?: SpawnedApp;
  private restarts = 0;
  private exitsInARow = 0;
  private readySince?: number;
  private restartTimer?: NodeJS.Timeout;
  private stopping = false;
  private readyWaiters: Array<() => void> = [];

  constructor(
    readonly name: AppName,
    private readonly env: NodeJS.ProcessEnv,
    private readonly print: Print,
    private readonly output: AppLine = print,
  ) {}

  get port(): number {
    return appPort(this.name, this.env);
  }

  get pid(): number | undefined {
    return this.current?.child.pid;
  }

  start(): void {
    if (this.stopping) return;
    const spawned = spawnApp(this.name, this.env, this.output);
    this.current = spawned;
    this.readySince = undefined;
    this.print('plexus', `${this.name} started (pid ${spawned.child.pid})`);
    spawned.child.once('exit', (code, signal) => this.exited(spawned, code, signal));
    void this.watchReadiness(spawned);
  }

  /** Resolves once the app answers /health/ready (after as many restarts as it takes). */
  ready(): Promise<void> {
    if (this.readySince !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** SIGTERM to the app (no restart after it), resolving when it is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const spawned = this.current;
    if (!spawned || spawned.child.exitCode !== null || spawned.child.signalCode !== null) return;
    spawned.child.kill(signal);
    await spawned.exited;
  }

  private exited(spawned: SpawnedApp, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping || spawned !== this.current) return;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (this.readySince !== undefined && Date.now() - this.readySince >= RESTART_POLICY.resetAfterReadyMs) this.exitsInARow = 0;
    this.exitsInARow += 1;
    this.restarts += 1;
    const delay = restartDelayMs(this.exitsInARow);
    this.readySince = undefined;
    this.print('plexus', `${this.name} exited (${how}); restarting in ${delay / 1000} s (restart #${this.restarts})`);
    this.restartTimer = setTimeout(() => this.start(), delay);
  }

  private async watchReadiness(spawned: SpawnedApp): Promise<void> {
    while (spawned === this.current && spawned.child.exitCode === null && spawned.child.signalCode === null && !this.stopping) {
      try {
        const response = await fetch(`http://127.0.0.1:${this.port}/health/ready`, { signal: AbortSignal.timeout(2_000) });
        // Another app answering on a port this one has not bound yet would be a lie: only trust it while ours is alive.
        if (response.ok && spawned === this.current && spawned.child.exitCode === null) {
          this.readySince = Date.now();
          if (this.restarts > 0) this.print('plexus', `${this.name} is ready again (pid ${spawned.child.pid}, restart #${this.restarts})`);
          for (const resolve of this.readyWaiters.splice(0)) resolve();
          return;
        }
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
    }
  }
}
