import { appendFile, mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Recorded telemetry that could not be sent yet, on disk in order: NDJSON segment files,
 * oldest first, bounded in total size (the oldest segment goes first when full). Survives a
 * network drop and an agent restart; sent in order once connected again.
 */
export class DiskQueue {
  private segment?: string;
  private segmentBytes = 0;
  private dropped = 0;

  constructor(
    private readonly dir: string,
    private readonly maxBytes = 64 * 1024 * 1024,
    private readonly segmentMaxBytes = 1024 * 1024,
  ) {}

  get droppedSegments(): number {
    return this.dropped;
  }

  async push(message: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    if (!this.segment || this.segmentBytes >= this.segmentMaxBytes) {
      // Names sort in creation order.
      this.segment = join(this.dir, `${Date.now().toString().padStart(15, '0')}-${process.pid}-${Math.random().toString(36).slice(2, 8)}.ndjson`);
      this.segmentBytes = 0;
      await this.enforceLimit();
    }
    const line = `${message}\n`;
    await appendFile(this.segment, line, { mode: 0o600 });
    this.segmentBytes += Buffer.byteLength(line);
  }

  async size(): Promise<number> {
    let total = 0;
    for (const file of await this.segments()) total += (await stat(join(this.dir, file))).size;
    return total;
  }

  /**
   * Sends every queued message, oldest first, through `send` (which resolves once the message
   * is handed to the socket and rejects when it cannot be). A segment is deleted once all its
   * lines are sent; on failure the rest stays for the next drain.
   */
  async drain(send: (message: string) => Promise<void>): Promise<number> {
    let sent = 0;
    this.segment = undefined;
    for (const file of await this.segments()) {
      const path = join(this.dir, file);
      const lines = (await readFile(path, 'utf8')).split('\n').filter(Boolean);
      for (const line of lines) {
        await send(line);
        sent++;
      }
      await unlink(path);
    }
    return sent;
  }

  private async segments(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((name) => name.endsWith('.ndjson')).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  private async enforceLimit(): Promise<void> {
    const files = await this.segments();
    let total = 0;
    const sizes = await Promise.all(files.map(async (file) => (await stat(join(this.dir, file))).size));
    for (const size of sizes) total += size;
    for (let i = 0; total > this.maxBytes - this.segmentMaxBytes && i < files.length; i++) {
      await unlink(join(this.dir, files[i]));
      total -= sizes[i];
      this.dropped++;
    }
  }
}
