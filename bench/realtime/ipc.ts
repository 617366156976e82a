import { type ChildProcess, fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Request/reply between the bench and its load generators over Node's IPC channel: each child is
 * a separate process (its own event loop and CPU), driven step by step by the bench.
 */
interface Envelope {
  id: number;
  request?: unknown;
  reply?: unknown;
  error?: string;
}

export class Child {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  readonly exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    process.on('message', (message: Envelope) => {
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      if (message.error !== undefined) waiting.reject(new Error(`${name}: ${message.error}`));
      else waiting.resolve(message.reply);
    });
    this.exited = new Promise((resolve) =>
      process.on('exit', (code) => {
        for (const waiting of this.pending.values()) waiting.reject(new Error(`${name} exited (${code})`));
        this.pending.clear();
        resolve(code);
      }),
    );
  }

  /** Starts `dist/bench/realtime/<program>.js` as its own Node process. */
  static start(name: string, program: string, args: string[] = []): Child {
    const here = dirname(fileURLToPath(import.meta.url));
    const child = fork(join(here, `${program}.js`), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    return new Child(name, child);
  }

  get pid(): number {
    return this.process.pid as number;
  }

  ask<T>(request: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.process.send({ id, request } satisfies Envelope);
    });
  }

  async stop(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGTERM');
    await this.exited;
  }
}

/** In a child: answers each request of the bench with what `handle` resolves to (or its error). */
export function serve(handle: (request: never) => Promise<unknown>): void {
  process.on('message', (message: Envelope) => {
    handle(message.request as never).then(
      (reply) => process.send?.({ id: message.id, reply } satisfies Envelope),
      (error: unknown) =>
        process.send?.({ id: message.id, error: error instanceof Error ? error.message : String(error) } satisfies Envelope),
    );
  });
  // The bench going away takes its load generators with it.
  process.on('disconnect', () => process.exit(0));
}
