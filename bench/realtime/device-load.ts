/**
 * Load generator child: many device sockets (one pool per system under test) that authenticate
 * as devices and, when told, send telemetry at a fixed total rate paced by a timer, each message
 * carrying its send time on the monotonic clock. Counts RATE_LIMITED errors per device, so the
 * bench can say whether a device inside its limit was ever limited. Idle pools just stay open
 * (ws answers the server's protocol pings).
 */
import { WebSocket } from 'ws';
import { monotonicMs } from './clock.js';
import { serve } from './ipc.js';

export type DeviceLoadRequest =
  | { op: 'connect'; pool: string; url: string; apiKey: string; count: number; prefix: string; concurrency: number }
  | { op: 'send'; pool: string; rate: number; seconds: number; tag: string }
  | { op: 'close'; pool: string };

export interface ConnectReply {
  connected: number;
  failed: number;
  firstProblem?: string;
  seconds: number;
}

export interface SendReply {
  sent: number;
  /** Send window actually taken, from the first message to the last. */
  seconds: number;
  startedAtMs: number;
  /** Largest bytes any socket of the pool had waiting in its own buffer after a tick. */
  maxBufferedBytes: number;
  rateLimitedErrors: number;
  limitedDevices: number;
  otherErrors: Record<string, number>;
  closedDuringStep: number;
}

interface Device {
  ws: WebSocket;
  rateLimited: number;
}

interface Pool {
  devices: Device[];
  otherErrors: Map<string, number>;
  closed: number;
}

const pools = new Map<string, Pool>();

function connectOne(url: string, apiKey: string, sourceId: string, pool: Pool): Promise<Device> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const device: Device = { ws, rateLimited: 0 };
    let authenticated = false;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no "authenticated" within 60 s'));
    }, 60_000);
    ws.on('open', () =>
      ws.send(JSON.stringify({ type: 'device_auth', api_key: apiKey, source_id: sourceId, platform: 'bench', sensors: [] })),
    );
    ws.on('message', (data) => {
      const text = String(data);
      if (!authenticated) {
        const frame = JSON.parse(text) as { type?: string; message?: string; code?: string };
        if (frame.type === 'authenticated') {
          authenticated = true;
          clearTimeout(timer);
          resolve(device);
        } else if (frame.type === 'error') {
          clearTimeout(timer);
          ws.terminate();
          reject(new Error(`${frame.code ?? ''} ${frame.message ?? ''}`.trim()));
        }
        return;
      }
      if (!text.includes('"error"')) return;
      const frame = JSON.parse(text) as { type?: string; code?: string };
      if (frame.type !== 'error') return;
      if (frame.code === 'RATE_LIMITED') device.rateLimited++;
      else pool.otherErrors.set(frame.code ?? 'no code', (pool.otherErrors.get(frame.code ?? 'no code') ?? 0) + 1);
    });
    ws.on('close', () => {
      if (authenticated) pool.closed++;
    });
    ws.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function connect(request: Extract<DeviceLoadRequest, { op: 'connect' }>): Promise<ConnectReply> {
  const pool: Pool = pools.get(request.pool) ?? { devices: [], otherErrors: new Map(), closed: 0 };
  pools.set(request.pool, pool);
  const started = performance.now();
  let next = 0;
  let failed = 0;
  let firstProblem: string | undefined;
  const worker = async () => {
    while (next < request.count) {
      const index = next++;
      try {
        pool.devices.push(await connectOne(request.url, request.apiKey, `${request.prefix}${index}`, pool));
      } catch (error) {
        failed++;
        firstProblem ??= (error as Error).message || String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(request.concurrency, request.count) }, worker));
  return { connected: pool.devices.length, failed, firstProblem, seconds: (performance.now() - started) / 1000 };
}

async function send(request: Extract<DeviceLoadRequest, { op: 'send' }>): Promise<SendReply> {
  const pool = pools.get(request.pool);
  if (!pool?.devices.length) throw new Error(`no devices in pool ${request.pool}`);
  const devices = pool.devices;
  for (const device of devices) device.rateLimited = 0;
  pool.otherErrors.clear();
  const closedBefore = pool.closed;
  const prefix = `{"type":"telemetry","points":[{"metric":"${request.tag}","value":`;
  let issued = 0;
  let sent = 0;
  let ticks = 0;
  let maxBufferedBytes = 0;
  const startedAtMs = monotonicMs();
  const windowMs = request.seconds * 1000;
  let lastSentAtMs = startedAtMs;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = monotonicMs();
      const elapsed = now - startedAtMs;
      const due = Math.floor((Math.min(elapsed, windowMs) / 1000) * request.rate);
      for (; issued < due; issued++) {
        const device = devices[issued % devices.length];
        if (device.ws.readyState !== WebSocket.OPEN) continue;
        device.ws.send(`${prefix}${monotonicMs()},"timestamp":${Date.now()}}]}`);
        sent++;
      }
      lastSentAtMs = now;
      // A look at the sockets' own buffers now and then (a full scan each tick would cost the sender more than sending).
      if (++ticks % 64 === 0 || elapsed >= windowMs) {
        for (const device of devices) if (device.ws.bufferedAmount > maxBufferedBytes) maxBufferedBytes = device.ws.bufferedAmount;
      }
      if (elapsed >= windowMs) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  // Let error frames about the last messages arrive before counting them.
  await new Promise((resolve) => setTimeout(resolve, 300));
  return {
    sent,
    seconds: (lastSentAtMs - startedAtMs) / 1000,
    startedAtMs,
    maxBufferedBytes,
    rateLimitedErrors: devices.reduce((sum, device) => sum + device.rateLimited, 0),
    limitedDevices: devices.filter((device) => device.rateLimited > 0).length,
    otherErrors: Object.fromEntries(pool.otherErrors),
    closedDuringStep: pool.closed - closedBefore,
  };
}

async function close(request: Extract<DeviceLoadRequest, { op: 'close' }>): Promise<number> {
  const pool = pools.get(request.pool);
  if (!pool) return 0;
  pools.delete(request.pool);
  await Promise.all(
    pool.devices.map(
      (device) =>
        new Promise<void>((resolve) => {
          if (device.ws.readyState === WebSocket.CLOSED) return resolve();
          device.ws.once('close', () => resolve());
          device.ws.close();
          setTimeout(() => {
            device.ws.terminate();
            resolve();
          }, 5000).unref();
        }),
    ),
  );
  return pool.devices.length;
}

serve(async (request: DeviceLoadRequest) => {
  if (request.op === 'connect') return connect(request);
  if (request.op === 'send') return send(request);
  return close(request);
});
