import { appendFile, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Recorded telemetry that could not be sent yet, on disk in order: NDJSON segment files,
 * oldest first, bounded in total size (the oldest segment goes first when full). Survives a
 * network drop and an agent restart; sent in order once connected again.
 *
 * Appending, starting a drain and asking whether the queue is empty run one at a time, so a
 * message appended while a drain is under way is never read half-written, deleted unsent, or
 * left behind by the drain's last look.
 */
export class DiskQueue {
  private segment?: string;
  private segmentBytes = 0;
  private dropped = 0;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly maxBytes = 64 * 1024 * 1024,
    private readonly segmentMaxBytes = 1024 * 1024,
  ) {}

  get droppedSegments(): number {
    return this.dropped;
  }

  push(message: string): Promise<void> {
    return this.exclusive(() => this.append(message));
  }

  /** Appends `message` only if `when()` holds at that moment; answers whether it did. */
  pushIf(when: () => boolean, message: string): Promise<boolean> {
    return this.exclusive(async () => {
      if (!when()) return false;
      await this.append(message);
      return true;
    });
  }

  /** Runs `then` if nothing is queued, with no append in between; answers whether it did. */
  ifEmpty(then: () => void): Promise<boolean> {
    return this.exclusive(async () => {
      if ((await this.segments()).length) return false;
      then();
      return true;
    });
  }

  async size(): Promise<number> {
    let total = 0;
    for (const file of await this.segments()) total += (await orIfGone(stat(join(this.dir, file)), { size: 0 })).size;
    return total;
  }

  /**
   * Sends every queued message, oldest first, through `send` (which resolves once the message
   * is handed to the socket and rejects when it cannot be). A segment is deleted once all its
   * lines are sent; on failure the rest stays for the next drain.
   */
  async drain(send: (message: string) => Promise<void>): Promise<number> {
    // What is queued now; appends from here on start a new segment, which the next drain takes.
    const files = await this.exclusive(async () => {
      this.segment = undefined;
      return this.segments();
    });
    let sent = 0;
    for (const file of files) {
      const path = join(this.dir, file);
      const lines = (await orIfGone(readFile(path, 'utf8'), '')).split('\n').filter(Boolean);
      for (const line of lines) {
        await send(line);
        sent++;
      }
      // Gone already if the size limit dropped it meanwhile.
      await rm(path, { force: true });
    }
    return sent;
  }

  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.chain.then(operation);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async append(message: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    if (!this.segment || this.segmentBytes >= this.segmentMaxBytes) {
      // Names sort in creation order.
      this.segment = join(
        this.dir,
        `${Date.now().toString().padStart(15, '0')}-${process.pid}-${Math.random().toString(36).slice(2, 8)}.ndjson`,
      );
      this.segmentBytes = 0;
      await this.enforceLimit();
    }
    const line = `${message}\n`;
    await appendFile(this.segment, line, { mode: 0o600 });
    this.segmentBytes += Buffer.byteLength(line);
  }

  private async segments(): Promise<string[]> {
    return (await orIfGone(readdir(this.dir), [])).filter((name) => name.endsWith('.ndjson')).sort();
  }

  private async enforceLimit(): Promise<void> {
    const files = await this.segments();
    let total = 0;
    // A drain may delete a segment at any moment (it sends outside the queue's turn): gone counts as empty.
    const sizes = await Promise.all(files.map(async (file) => (await orIfGone(stat(join(this.dir, file)), { size: 0 })).size));
    for (const size of sizes) total += size;
    for (let i = 0; total > this.maxBytes - this.segmentMaxBytes && i < files.length; i++) {
      await rm(join(this.dir, files[i]), { force: true });
      total -= sizes[i];
      this.dropped++;
    }
  }
}

/** What `operation` answers, or `fallback` when its file or folder is gone (the queue's files come and go). */
async function orIfGone<T, F>(operation: Promise<T>, fallback: F): Promise<T | F> {
  try {
    return await operation;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw error;
  }
}
