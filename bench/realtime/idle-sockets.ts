import { readFileSync } from 'node:fs';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import type { Platform } from '../ingest/platform.js';
import { collectGarbage } from './collect-garbage.js';
import type { ConnectReply } from './device-load.js';
import { type FileLimit, fileLimitOf, openFiles, raiseFileLimit } from '../../scripts/file-limit.js';
import { Child } from './ipc.js';

/**
 * Descriptors kept free on instance A while it holds the idle sockets: the bench still asks it
 * for /stats and /metrics over HTTP, and NATS may reconnect. At the limit itself an instance can
 * accept nothing else, so the bench does not fill it to the last descriptor.
 */
const FD_HEADROOM = 32;
const SOURCE_PREFIX = 'idle-';

export interface IdleOptions {
  requested: number;
  perProcess: number;
  /** Instance A's process and port; B's port for a browser's `init`. */
  pidA: number;
  portA: number;
  portB: number;
  /** A child running browser-load, to open a fresh browser on B. */
  browser: Child;
}

export interface IdleResult {
  requested: number;
  limitA?: FileLimit;
  limitProblem?: string;
  openBefore: number;
  attempted: number;
  processes: number;
  connected: number;
  failed: number;
  firstProblem?: string;
  connectSeconds: number;
  statsDevices: number;
  bucketEntries: number;
  initOnline: number;
  /** What GET /api/sources said, and how many idle devices it showed online (undefined: it failed). */
  api: { text: string; online?: number };
  rssBeforeBytes: number;
  rssAfterBytes: number;
  heapBeforeBytes: number;
  heapAfterBytes: number;
  /** The same after a full garbage collection in A, unless it could not be forced (gcProblem). */
  gcProblem?: string;
  rssAfterGcBytes: number;
  heapAfterGcBytes: number;
  openAfter: number;
}

function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((row) => row.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1]) * 1024;
}

async function heapUsed(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((row) => row.startsWith('plexus_nodejs_heap_size_used_bytes'));
  return Number(line?.split(' ')[1]);
}

async function statsDevices(port: number): Promise<number> {
  return ((await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as { devices: number }).devices;
}

/** Entries of the presence bucket naming one of the idle devices. */
async function bucketEntries(platform: Platform): Promise<number> {
  const nc = await connect({ servers: platform.env.NATS_URL as string });
  try {
    const kv = await new Kvm(nc).open(platform.buckets.presenceDevices);
    let count = 0;
    for await (const key of await kv.keys()) if (key.split('.')[1]?.startsWith(SOURCE_PREFIX)) count++;
    return count;
  } finally {
    await nc.close();
  }
}

/** What GET /api/sources says: how many idle devices are online, or why it could not say. */
async function apiOnline(platform: Platform): Promise<{ text: string; online?: number }> {
  const response = await platform.api('/api/sources');
  if (!response.ok) return { text: `GET /api/sources answered ${response.status}: ${(await response.text()).slice(0, 200)}` };
  const { sources } = (await response.json()) as { sources: Array<{ source_id: string; online: boolean }> };
  const idle = sources.filter((source) => source.source_id.startsWith(SOURCE_PREFIX));
  const online = idle.filter((source) => source.online).length;
  return { text: `${online.toLocaleString('en-US')} online of ${idle.length.toLocaleString('en-US')} listed`, online };
}

async function settle(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !(await condition())) await new Promise((resolve) => setTimeout(resolve, 250));
}

/**
 * N idle authenticated device sockets on instance A, opened from several load generator
 * processes (each stays far under its own file limit), then: A's memory per socket and whether
 * presence still tells the truth about every one of them.
 */
export async function idleSockets(platform: Platform, options: IdleOptions): Promise<IdleResult> {
  const raised = await raiseFileLimit(options.pidA);
  const limitA = raised.limit ?? fileLimitOf(options.pidA);
  const openBefore = openFiles(options.pidA);
  const capacity = limitA ? limitA.soft - openBefore - FD_HEADROOM : Infinity;
  const attempted = Math.max(0, Math.min(options.requested, capacity));
  const processes = Math.max(1, Math.ceil(attempted / options.perProcess));
  const loaders = Array.from({ length: processes }, (_, i) => Child.start(`idle sockets ${i + 1}`, 'device-load'));
  try {
    for (const loader of loaders) await raiseFileLimit(loader.pid);
    await settle(async () => (await statsDevices(options.portA)) === 0, 10_000);
    // The baseline after a full collection, so the ladder's garbage is not counted against the sockets.
    const gcBefore = await collectGarbage(options.pidA);
    const rssBeforeBytes = rssOf(options.pidA);
    const heapBeforeBytes = await heapUsed(options.portA);
    const started = performance.now();
    const replies = await Promise.all(
      loaders.map((loader, i) => {
        const share = Math.floor(attempted / processes) + (i < attempted % processes ? 1 : 0);
        return loader.ask<ConnectReply>({
          op: 'connect',
          pool: 'idle',
          url: `ws://127.0.0.1:${options.portA}/ws`,
          apiKey: platform.adminKey,
          count: share,
          prefix: `${SOURCE_PREFIX}${i}-`,
          concurrency: 50,
        });
      }),
    );
    const connectSeconds = (performance.now() - started) / 1000;
    const connected = replies.reduce((sum, reply) => sum + reply.connected, 0);
    // Presence settles (bucket writes, announcements), then the memory is read.
    await settle(async () => (await statsDevices(options.portA)) === connected, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const rssAfterBytes = rssOf(options.pidA);
    const heapAfterBytes = await heapUsed(options.portA);
    const gcAfter = gcBefore ?? (await collectGarbage(options.pidA));
    const rssAfterGcBytes = rssOf(options.pidA);
    const heapAfterGcBytes = await heapUsed(options.portA);
    const init = await options.browser.ask<{ online: number; withPrefix: number }>({
      op: 'init',
      url: `ws://127.0.0.1:${options.portB}/ws`,
      apiKey: platform.adminKey,
      sourcePrefix: SOURCE_PREFIX,
    });
    const result: IdleResult = {
      requested: options.requested,
      limitA,
      limitProblem: raised.problem,
      openBefore,
      attempted,
      processes,
      connected,
      failed: replies.reduce((sum, reply) => sum + reply.failed, 0),
      firstProblem: replies.find((reply) => reply.firstProblem)?.firstProblem,
      connectSeconds,
      statsDevices: await statsDevices(options.portA),
      bucketEntries: await bucketEntries(platform),
      initOnline: init.withPrefix,
      api: await apiOnline(platform),
      rssBeforeBytes,
      rssAfterBytes,
      heapBeforeBytes,
      heapAfterBytes,
      gcProblem: gcBefore ?? gcAfter,
      rssAfterGcBytes,
      heapAfterGcBytes,
      openAfter: openFiles(options.pidA),
    };
    await Promise.all(loaders.map((loader) => loader.ask({ op: 'close', pool: 'idle' })));
    return result;
  } finally {
    await Promise.all(loaders.map((loader) => loader.stop()));
  }
}
