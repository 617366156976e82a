import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { DiskQueue } from './disk-queue.js';

const dirs: string[] = [];
function newQueue(): { queue: DiskQueue; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'plexus-queue-'));
  dirs.push(dir);
  return { queue: new DiskQueue(join(dir, 'queue')), dir: join(dir, 'queue') };
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('DiskQueue', () => {
  it('delivers messages appended while a drain is sending in a later drain, in order, once each', async () => {
    const { queue } = newQueue();
    await queue.push('a');
    await queue.push('b');
    const delivered: string[] = [];
    const appends: Array<Promise<unknown>> = [];
    await queue.drain(async (line) => {
      delivered.push(line);
      // The socket is slow; recorded messages keep coming meanwhile.
      appends.push(
        queue.push(`${line}-late`),
        queue.pushIf(() => true, `${line}-later`),
      );
      await new Promise((resolve) => setImmediate(resolve));
    });
    await Promise.all(appends);
    expect(delivered).toEqual(['a', 'b']);
    await queue.drain(async (line) => void delivered.push(line));
    expect(delivered).toEqual(['a', 'b', 'a-late', 'a-later', 'b-late', 'b-later']);
    expect(await queue.ifEmpty(() => undefined)).toBe(true);
  });

  it('keeps the rest of a segment when sending fails, for the next drain', async () => {
    const { queue } = newQueue();
    for (const line of ['1', '2', '3']) await queue.push(line);
    const first: string[] = [];
    await expect(
      queue.drain(async (line) => {
        if (line === '2') throw new Error('socket closed');
        first.push(line);
      }),
    ).rejects.toThrow('socket closed');
    const second: string[] = [];
    await queue.drain(async (line) => void second.push(line));
    // Resent from the start of the segment: the server stores each point once.
    expect([first, second]).toEqual([['1'], ['1', '2', '3']]);
  });

  it('ends a catch-up atomically: a message is queued before the last look or sent after it, never stranded', async () => {
    const { queue, dir } = newQueue();
    let draining = true;
    // Queued before the look: the look sees it and the catch-up goes on.
    const before = queue.pushIf(() => draining, 'before');
    const firstLook = queue.ifEmpty(() => (draining = false));
    expect(await before).toBe(true);
    expect(await firstLook).toBe(false);
    expect(draining).toBe(true);
    const sent: string[] = [];
    await queue.drain(async (line) => void sent.push(line));
    // Asked right after the look that ends it: not queued, the caller sends it itself.
    const lastLook = queue.ifEmpty(() => (draining = false));
    const after = queue.pushIf(() => draining, 'after');
    expect(await lastLook).toBe(true);
    expect(await after).toBe(false);
    expect(sent).toEqual(['before']);
    expect(readdirSync(dir)).toEqual([]);
  });
});
