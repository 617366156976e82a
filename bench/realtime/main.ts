/**
 * `npm run bench:realtime`: device → browser relay latency across two realtime instances, and
 * how many idle device sockets one instance holds, with its memory per socket.
 *
 * Starts pairing, gateway and two realtime instances (separate processes, fresh database and
 * NATS prefix). Devices connect to instance A, one browser to instance B; devices send
 * telemetry at a fixed total rate, each message carrying its send time, and the browser
 * measures the delay on arrival (same machine, same clock). Then N idle devices connect to A
 * and A's resident memory is compared before and after.
 *
 * Environment: BENCH_RATES (default "1000,10000" messages/s), BENCH_SECONDS (3),
 * BENCH_IDLE_SOCKETS (5000).
 */
import { WebSocket } from 'ws';
import { Platform } from '../ingest/platform.js';

const RATES = (process.env.BENCH_RATES || '1000,10000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS || 3);
const IDLE = Number(process.env.BENCH_IDLE_SOCKETS || 5000);
/** Devices share the load so no one device exceeds the per-device rate limit (1000 msg/s by default). */
const PER_DEVICE_RATE = 500;

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function firstMessage(ws: WebSocket, type: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: unknown) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      if (frame.type === type) {
        ws.off('message', onMessage);
        resolve(frame);
      } else if (frame.type === 'error') reject(new Error(String(frame.message)));
    };
    ws.on('message', onMessage);
  });
}

async function device(url: string, key: string, sourceId: string): Promise<WebSocket> {
  const ws = await open(url);
  const authenticated = firstMessage(ws, 'authenticated');
  ws.send(JSON.stringify({ type: 'device_auth', api_key: key, source_id: sourceId, platform: 'bench', sensors: [] }));
  await authenticated;
  return ws;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function relay(
  platform: Platform,
  portB: number,
  rate: number,
): Promise<{ rate: number; sent: number; received: number; p50: number; p99: number; max: number }> {
  const devices = await Promise.all(
    Array.from({ length: Math.max(1, Math.ceil(rate / PER_DEVICE_RATE)) }, (_, i) =>
      device(`ws://127.0.0.1:${platform.ports.realtime}/ws`, platform.adminKey, `bench-${rate}-${i}`),
    ),
  );
  const browser = await open(`ws://127.0.0.1:${portB}/ws`);
  const init = firstMessage(browser, 'init');
  browser.send(JSON.stringify({ type: 'browser_auth', api_key: platform.adminKey }));
  await init;
  const latencies: number[] = [];
  browser.on('message', (data) => {
    const text = String(data);
    if (!text.includes('"telemetry"')) return;
    const frame = JSON.parse(text) as { points: Array<{ value: number }> };
    latencies.push(performance.now() - frame.points[0].value);
  });
  let sent = 0;
  const tickMs = 10;
  const perTick = rate / (1000 / tickMs);
  const started = performance.now();
  await new Promise<void>((resolve) => {
    let owed = 0;
    const timer = setInterval(() => {
      const elapsed = performance.now() - started;
      if (elapsed >= SECONDS * 1000) {
        clearInterval(timer);
        resolve();
        return;
      }
      owed += perTick;
      for (; owed >= 1; owed--) {
        const ws = devices[sent % devices.length];
        ws.send(`{"type":"telemetry","points":[{"metric":"lat","value":${performance.now()},"timestamp":${Date.now()}}]}`);
        sent++;
      }
    }, tickMs);
  });
  const deadline = Date.now() + 5000;
  while (latencies.length < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const ws of [...devices, browser]) ws.close();
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    rate,
    sent,
    received: latencies.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
  };
}

async function rss(port: number): Promise<number> {
  return ((await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as { memory_rss_bytes: number }).memory_rss_bytes;
}

async function idleSockets(platform: Platform): Promise<{ held: number; perSocketKiB: number }> {
  const port = platform.ports.realtime;
  const before = await rss(port);
  const sockets: WebSocket[] = [];
  for (let start = 0; start < IDLE; start += 200) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(200, IDLE - start) }, (_, i) =>
        device(`ws://127.0.0.1:${port}/ws`, platform.adminKey, `idle-${start + i}`),
      ),
    );
    sockets.push(...batch);
  }
  await new Promise((r) => setTimeout(r, 1000));
  const stats = (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as { devices: number; memory_rss_bytes: number };
  for (const ws of sockets) ws.close();
  return { held: stats.devices, perSocketKiB: (stats.memory_rss_bytes - before) / IDLE / 1024 };
}

const platform = await Platform.start({ apps: ['pairing', 'gateway', 'realtime'] });
try {
  const portB = await platform.startCopy('realtime', 'realtime-b');
  await relay(platform, portB, 500); // warm-up
  const results = [];
  for (const rate of RATES) results.push(await relay(platform, portB, rate));
  const idle = await idleSockets(platform);
  console.log(
    `\nPlexus realtime benchmark — ${new Date().toISOString()}, ${SECONDS} s per rate, device on instance A, browser on instance B`,
  );
  console.log('| messages/s | sent | received | p50 latency | p99 latency | max |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.rate.toLocaleString('en-US')} | ${r.sent} | ${r.received} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${r.max.toFixed(2)} ms |`,
    );
  }
  console.log(
    `\nIdle device sockets held by one instance: ${idle.held.toLocaleString('en-US')} of ${IDLE.toLocaleString('en-US')}, ~${idle.perSocketKiB.toFixed(1)} KiB resident memory per socket`,
  );
} finally {
  await platform.stop();
}
