/**
 * Load generator child: browser sockets that receive what the devices send and measure each
 * message's delay from the send time it carries (same monotonic clock, see clock.ts). One
 * browser per system under test; a step is told by the metric name the senders use.
 */
import { WebSocket } from 'ws';
import { monotonicMs } from './clock.js';
import { serve } from './ipc.js';

export type BrowserLoadRequest =
  | { op: 'connect'; target: string; url: string; apiKey: string }
  | { op: 'start'; target: string; tag: string }
  | { op: 'progress'; target: string }
  | { op: 'finish'; target: string }
  | { op: 'init'; url: string; apiKey: string; sourcePrefix: string };

export interface StepLatency {
  received: number;
  p50: number;
  p99: number;
  max: number;
  firstArrivalMs: number;
  lastArrivalMs: number;
  /** Messages of another step (late) and frames other than telemetry, by type. */
  stray: number;
  otherFrames: Record<string, number>;
}

interface Receiver {
  ws: WebSocket;
  tag: string;
  marker: string;
  latencies: Float64Array;
  received: number;
  firstArrivalMs: number;
  lastArrivalMs: number;
  stray: number;
  otherFrames: Map<string, number>;
}

const receivers = new Map<string, Receiver>();
const VALUE = '"value":';

function record(receiver: Receiver, text: string): void {
  // Telemetry is scanned, not parsed: the receiver must cost less than what it measures.
  if (text.includes('"type":"telemetry"')) {
    if (!text.includes(receiver.marker)) {
      receiver.stray++;
      return;
    }
    const at = text.indexOf(VALUE);
    const now = monotonicMs();
    const delay = now - parseFloat(text.slice(at + VALUE.length, at + VALUE.length + 24));
    if (receiver.received === receiver.latencies.length) {
      const grown = new Float64Array(receiver.latencies.length * 2);
      grown.set(receiver.latencies);
      receiver.latencies = grown;
    }
    receiver.latencies[receiver.received++] = delay;
    if (!receiver.firstArrivalMs) receiver.firstArrivalMs = now;
    receiver.lastArrivalMs = now;
    return;
  }
  const type = (JSON.parse(text) as { type?: string; code?: string }).type ?? 'no type';
  const code = type === 'error' ? `error ${(JSON.parse(text) as { code?: string }).code}` : type;
  receiver.otherFrames.set(code, (receiver.otherFrames.get(code) ?? 0) + 1);
}

function openBrowser(url: string, apiKey: string): Promise<{ ws: WebSocket; init: { online_sources: Array<{ source_id: string }> } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no "init" within 30 s'));
    }, 30_000);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'browser_auth', api_key: apiKey })));
    ws.once('message', (data) => {
      clearTimeout(timer);
      const frame = JSON.parse(String(data)) as { type: string; message?: string; online_sources: Array<{ source_id: string }> };
      if (frame.type === 'init') resolve({ ws, init: frame });
      else reject(new Error(`first frame ${frame.type}: ${frame.message ?? ''}`));
    });
    ws.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function receiverOf(target: string): Receiver {
  const receiver = receivers.get(target);
  if (!receiver) throw new Error(`no browser for ${target}`);
  return receiver;
}

serve(async (request: BrowserLoadRequest) => {
  switch (request.op) {
    case 'connect': {
      const { ws } = await openBrowser(request.url, request.apiKey);
      const receiver: Receiver = {
        ws,
        tag: '',
        marker: '\u0000',
        latencies: new Float64Array(1 << 16),
        received: 0,
        firstArrivalMs: 0,
        lastArrivalMs: 0,
        stray: 0,
        otherFrames: new Map(),
      };
      ws.on('message', (data) => record(receiver, String(data)));
      receivers.set(request.target, receiver);
      return null;
    }
    case 'start': {
      const receiver = receiverOf(request.target);
      Object.assign(receiver, {
        tag: request.tag,
        marker: `"metric":"${request.tag}"`,
        received: 0,
        firstArrivalMs: 0,
        lastArrivalMs: 0,
        stray: 0,
      });
      receiver.otherFrames.clear();
      return null;
    }
    case 'progress':
      return receiverOf(request.target).received;
    case 'finish': {
      const receiver = receiverOf(request.target);
      const sorted = receiver.latencies.slice(0, receiver.received).sort();
      const result: StepLatency = {
        received: receiver.received,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted.length ? sorted[sorted.length - 1] : NaN,
        firstArrivalMs: receiver.firstArrivalMs,
        lastArrivalMs: receiver.lastArrivalMs,
        stray: receiver.stray,
        otherFrames: Object.fromEntries(receiver.otherFrames),
      };
      receiver.marker = '\u0000';
      return result;
    }
    case 'init': {
      // A fresh browser: does its `init` list the devices as online?
      const { ws, init } = await openBrowser(request.url, request.apiKey);
      ws.close();
      return {
        online: init.online_sources.length,
        withPrefix: init.online_sources.filter((source) => source.source_id.startsWith(request.sourcePrefix)).length,
      };
    }
  }
});
