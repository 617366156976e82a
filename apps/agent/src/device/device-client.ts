import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WebSocket } from 'ws';
// Type only (erased): the frames are defined once, by the wire schema in libs/common.
import type { DeviceAuthFrame, DeviceCommandFrame, DeviceEventFrame, ServerToDeviceFrame } from '../../../../libs/common/src/wire/index.js';
import type { SensorDescription, SensorReading } from '../sensors/base-sensor.js';
import { CommandRunner, type OutputEvent } from './command-runner.js';
import { DiskQueue } from './disk-queue.js';
import { MetricFilter, PointBuffer } from './streams.js';

export interface SensorControl {
  describe(): SensorDescription[];
  setSampleRate(sensorName: string, hz: number): boolean;
}

export interface DeviceClientOptions {
  wsUrl: string;
  orgId?: string | null;
  sourceId: string;
  deviceToken?: string | null;
  apiKey?: string | null;
  platform: string;
  sensors: SensorControl;
  allowExec: boolean;
  /** Where the offline queue and the active session live (~/.plexus). */
  stateDir: string;
  log: (line: string) => void;
  backoff?: { baseMs: number; maxMs: number };
}

interface Stream {
  intervalMs: number;
  buffer: PointBuffer;
  timer: NodeJS.Timeout;
}

interface ActiveSession {
  session_id: string;
  session_name: string;
  metrics: unknown;
  interval_ms: number;
}

/** Close codes after which reconnecting cannot help. */
const FATAL_CLOSES: Record<number, string> = {
  4001: 'the server refused this device’s credentials; pair it again (plexus pair --code …)',
  4009: 'another agent connected as this source and took over',
  4010: 'this device was removed from the fleet (its token is revoked); pair it again',
};
/** Recorded messages sent in the last this-many ms are sent again after a reconnect (the server stores each point once). */
const RESEND_WINDOW_MS = 15_000;
/** With no ping or message from the server for this long, the connection is presumed dead. */
const SILENCE_MS = 60_000;

/**
 * The device side of the WebSocket protocol: authenticates, streams what the dashboard asks
 * for, records sessions (through a disk queue while offline, resent in order), configures
 * sensors, runs and cancels commands, and reconnects with exponential backoff and jitter,
 * resuming its streams and session.
 */
export class DeviceClient {
  private ws?: WebSocket;
  private authenticated = false;
  private stopped = false;
  private attempt = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private silenceTimer?: NodeJS.Timeout;
  private readonly streams = new Map<string, Stream>();
  private session?: { state: ActiveSession; buffer: PointBuffer; timer: NodeJS.Timeout };
  private readonly queue: DiskQueue;
  private readonly recent: Array<{ at: number; text: string }> = [];
  private draining = false;
  private readonly commands: CommandRunner;
  private resolveStopped!: (reason: string | undefined) => void;
  /** Resolves when the client stops for good: undefined when asked to, else the reason. */
  readonly finished = new Promise<string | undefined>((resolve) => (this.resolveStopped = resolve));

  constructor(private readonly options: DeviceClientOptions) {
    this.queue = new DiskQueue(join(options.stateDir, 'queue'));
    this.commands = new CommandRunner((event: OutputEvent) => this.sendLive(event));
  }

  async start(): Promise<void> {
    await this.restoreSession();
    this.connect();
  }

  /** Stops for good; recorded points not yet sent are queued on disk first. */
  async stop(): Promise<void> {
    await this.flushSession().catch(() => undefined);
    this.finish(undefined);
  }

  get isAuthenticated(): boolean {
    return this.authenticated;
  }

  /** The sensor hub calls this with every sample. */
  onReadings(readings: SensorReading[]): void {
    for (const stream of this.streams.values()) stream.buffer.add(readings);
    this.session?.buffer.add(readings, { session_id: this.session.state.session_id });
  }

  private connect(): void {
    if (this.stopped) return;
    const base = this.options.wsUrl.replace(/\/+$/, '');
    const url = this.options.orgId ? `${base}/party/${encodeURIComponent(this.options.orgId)}` : `${base}/ws`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.on('open', () => {
      this.watchSilence();
      const { deviceToken, apiKey } = this.options;
      const auth: DeviceAuthFrame = {
        type: 'device_auth',
        ...(deviceToken ? { device_token: deviceToken } : apiKey ? { api_key: apiKey } : {}),
        source_id: this.options.sourceId,
        platform: this.options.platform,
        sensors: this.options.sensors.describe(),
      };
      ws.send(JSON.stringify(auth));
    });
    ws.on('ping', () => this.watchSilence());
    ws.on('message', (data) => {
      this.watchSilence();
      // The realtime app checked every command against the wire schema before forwarding it.
      let message: ServerToDeviceFrame;
      try {
        message = JSON.parse(String(data)) as ServerToDeviceFrame;
      } catch {
        return;
      }
      void this.handle(message).catch((error: Error) => this.options.log(`message failed: ${error.message}`));
    });
    ws.on('close', (code, reason) => {
      clearTimeout(this.silenceTimer);
      const wasAuthenticated = this.authenticated;
      this.authenticated = false;
      if (this.ws !== ws || this.stopped) return;
      if (FATAL_CLOSES[code]) {
        this.finish(`${FATAL_CLOSES[code]} (${code}${reason.length ? `: ${String(reason)}` : ''})`);
        return;
      }
      if (wasAuthenticated) this.options.log('connection lost; reconnecting');
      this.scheduleReconnect();
    });
    ws.on('error', (error) => this.options.log(`connection error: ${error.message}`));
  }

  private scheduleReconnect(): void {
    const { baseMs, maxMs } = this.options.backoff ?? { baseMs: 1000, maxMs: 30_000 };
    const ceiling = Math.min(maxMs, baseMs * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private watchSilence(): void {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => {
      this.options.log('no word from the server for a minute; reconnecting');
      this.ws?.terminate();
    }, SILENCE_MS);
  }

  private async handle(message: ServerToDeviceFrame): Promise<void> {
    switch (message.type) {
      case 'authenticated':
        this.authenticated = true;
        this.attempt = 0;
        this.options.log(`connected as ${String(message.source_id)}`);
        await this.catchUp();
        return;
      case 'start_stream':
        return this.startStream(message);
      case 'stop_stream':
        return this.stopStream(message.id);
      case 'start_session':
        return this.startSession(message);
      case 'stop_session':
        return this.stopSession(message.session_id);
      case 'configure':
        return this.configure(message);
      case 'execute':
        if (!this.options.allowExec) {
          this.sendLive({
            type: 'output',
            id: String(message.id ?? ''),
            event: 'error',
            error: 'remote commands are disabled on this device (--no-exec)',
          });
          return;
        }
        if (message.id !== undefined) this.commands.execute(message.id, message.command);
        return;
      case 'cancel':
        this.commands.cancel(message.id);
        return;
      case 'ping':
        this.sendLive({ type: 'pong' });
        return;
      case 'error':
        this.options.log(`server: ${String(message.message)}`);
        return;
      default:
        return;
    }
  }

  private startStream(message: DeviceCommandFrame<'start_stream'>): void {
    const id = message.id ?? 'default';
    this.stopStream(id);
    const intervalMs = clampInterval(message.interval_ms);
    const buffer = new PointBuffer(new MetricFilter(message.metrics, this.options.sourceId));
    const timer = setInterval(() => {
      const points = buffer.take();
      if (points.length && this.authenticated) this.sendLive({ type: 'telemetry', points });
    }, intervalMs);
    this.streams.set(id, { intervalMs, buffer, timer });
  }

  private stopStream(id: unknown): void {
    const ids = id === '*' || id === undefined ? [...this.streams.keys()] : [String(id)];
    for (const key of ids) {
      clearInterval(this.streams.get(key)?.timer);
      this.streams.delete(key);
    }
  }

  private async startSession(message: DeviceCommandFrame<'start_session'>): Promise<void> {
    if (message.session_id === undefined) return;
    // The server sends it again when this device reconnects during the session (for agents that do
    // not resume on their own): the recording already under way goes on untouched, losing no sample.
    if (this.session?.state.session_id === message.session_id) {
      this.options.log(`already recording session ${message.session_id}`);
      return;
    }
    const state: ActiveSession = {
      session_id: message.session_id,
      session_name: message.session_name ?? message.session_id,
      metrics: message.metrics,
      interval_ms: clampInterval(message.interval_ms),
    };
    await this.stopSession(this.session?.state.session_id, false);
    this.beginSession(state);
    await this.saveSession(state);
    await this.sendRecorded({ type: 'session_started', session_id: state.session_id, session_name: state.session_name });
  }

  private beginSession(state: ActiveSession): void {
    const buffer = new PointBuffer(new MetricFilter(state.metrics, this.options.sourceId));
    const timer = setInterval(() => void this.flushSession(), state.interval_ms);
    this.session = { state, buffer, timer };
  }

  private async flushSession(): Promise<void> {
    const session = this.session;
    if (!session) return;
    const points = session.buffer.take();
    if (points.length) await this.sendRecorded({ type: 'telemetry', session_id: session.state.session_id, points });
  }

  private async stopSession(sessionId: unknown, announce = true): Promise<void> {
    const session = this.session;
    if (!session || (sessionId !== undefined && sessionId !== session.state.session_id)) return;
    await this.flushSession();
    clearInterval(session.timer);
    this.session = undefined;
    await rm(this.sessionFile(), { force: true });
    if (announce) await this.sendRecorded({ type: 'session_stopped', session_id: session.state.session_id });
  }

  private configure(message: DeviceCommandFrame<'configure'>): void {
    const sensor = message.sensor;
    const config = message.config;
    const rate = Number(typeof config === 'object' && config !== null && 'sample_rate' in config ? config.sample_rate : undefined);
    let changed: boolean;
    try {
      changed = this.options.sensors.setSampleRate(sensor, rate);
    } catch (error) {
      this.sendLive({ type: 'error', message: `cannot set sample_rate on "${sensor}": ${(error as Error).message}` });
      return;
    }
    if (!changed) {
      this.sendLive({ type: 'error', message: `no sensor "${sensor}" on this device` });
      return;
    }
    this.options.log(`sensor ${sensor} now samples at ${rate} Hz`);
  }

  /** Live messages are sent if connected and otherwise dropped. */
  private sendLive(message: DeviceEventFrame): void {
    if (this.authenticated && this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** Recorded messages are never dropped: sent in order, or queued on disk until they can be. */
  private async sendRecorded(message: DeviceEventFrame): Promise<void> {
    const text = JSON.stringify(message);
    // Decided inside the queue's turn: a catch-up that has just found the queue empty has also
    // cleared `draining`, so a message is either queued before that look or sent after it.
    if (await this.queue.pushIf(() => !this.authenticated || this.draining, text)) return;
    try {
      await this.sendOnSocket(text);
    } catch {
      await this.queue.push(text);
    }
  }

  private sendOnSocket(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN || !this.authenticated) {
        reject(new Error('not connected'));
        return;
      }
      ws.send(text, (error) => {
        if (error) {
          reject(error);
          return;
        }
        const now = Date.now();
        this.recent.push({ at: now, text });
        while (this.recent.length && this.recent[0].at < now - RESEND_WINDOW_MS) this.recent.shift();
        resolve();
      });
    });
  }

  /** After connecting: what may have died with the last socket, then everything queued, in order. */
  private async catchUp(): Promise<void> {
    this.draining = true;
    try {
      const resend = this.recent.splice(0);
      for (const { text } of resend) await this.sendOnSocket(text);
      // Until a look at the queue finds it empty, which ends the catch-up in the same turn.
      do {
        const sent = await this.queue.drain((text) => this.sendOnSocket(text));
        if (sent) this.options.log(`sent ${sent} recorded messages kept while offline`);
      } while (!(await this.queue.ifEmpty(() => (this.draining = false))));
    } catch (error) {
      this.options.log(`catching up stopped (${(error as Error).message}); will resume on reconnect`);
    } finally {
      this.draining = false;
    }
  }

  private sessionFile(): string {
    return join(this.options.stateDir, 'session.json');
  }

  private async saveSession(state: ActiveSession): Promise<void> {
    await mkdir(this.options.stateDir, { recursive: true, mode: 0o700 });
    await writeFile(this.sessionFile(), JSON.stringify(state), { mode: 0o600 });
  }

  /** A session that was recording when the agent stopped goes on recording when it starts again. */
  private async restoreSession(): Promise<void> {
    try {
      const state = JSON.parse(await readFile(this.sessionFile(), 'utf8')) as ActiveSession;
      if (typeof state.session_id === 'string') {
        this.beginSession(state);
        this.options.log(`resuming recording of session ${state.session_id}`);
      }
    } catch {
      // no session was active
    }
  }

  private finish(reason: string | undefined): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.silenceTimer);
    for (const stream of this.streams.values()) clearInterval(stream.timer);
    if (this.session) clearInterval(this.session.timer);
    this.commands.cancel();
    this.ws?.close(1000, 'agent stopping');
    this.resolveStopped(reason);
  }
}

function clampInterval(value: unknown): number {
  const ms = Number(value);
  return Number.isFinite(ms) ? Math.min(60_000, Math.max(10, ms)) : 100;
}
