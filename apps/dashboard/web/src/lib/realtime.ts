import type { BrowserAuthFrame, BrowserToServerFrame, Frame, OnlineSource } from './types.js';

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'refused';

/** Who is online: `init` lists them whole, a later `source_status` only names one. */
export type OnlineEntry = Pick<OnlineSource, 'source_id'> & Partial<OnlineSource>;

/** Close codes after which trying again with the same key is pointless (docs/realtime.md). */
const REFUSED_CODES = new Set([4001, 4010]);

/**
 * The dashboard's one socket to the realtime app: authenticates with the API key, keeps
 * who is online, hands every frame to listeners and reconnects with backoff.
 */
export class Realtime {
  state: ConnectionState = 'connecting';
  refusal = '';
  readonly online = new Map<string, OnlineEntry>();
  private socket: WebSocket | undefined;
  private readonly listeners = new Set<(frame: Frame) => void>();
  private readonly stateListeners = new Set<() => void>();
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly apiKey: string,
    /** Called when the server refuses the key; the caller decides whether it was revoked. */
    private readonly onRefused: (message: string) => void,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close(1000, 'signed out');
    this.socket = undefined;
  }

  /** Sends a frame if the socket is live; answers whether it was sent. */
  send(frame: BrowserToServerFrame): boolean {
    if (this.state !== 'live' || this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  listen(listener: (frame: Frame) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called when the state or the set of online sources changes. */
  watch(listener: () => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  isOnline(sourceId: string): boolean {
    return this.online.has(sourceId);
  }

  private connect(): void {
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url);
    } catch {
      this.setState('reconnecting');
      this.retry();
      return;
    }
    this.socket = socket;
    const auth: BrowserAuthFrame = { type: 'browser_auth', api_key: this.apiKey };
    socket.addEventListener('open', () => socket.send(JSON.stringify(auth)));
    socket.addEventListener('message', (event) => {
      let frame: Frame;
      try {
        frame = JSON.parse(String(event.data)) as Frame;
      } catch {
        return;
      }
      this.receive(frame);
    });
    socket.addEventListener('close', (event) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.stopped) return;
      this.online.clear();
      if (REFUSED_CODES.has(event.code)) {
        this.refusal = event.reason || 'The live connection refused this API key.';
        this.setState('refused');
        this.onRefused(this.refusal);
        return;
      }
      this.setState('reconnecting');
      this.retry();
    });
  }

  private receive(frame: Frame): void {
    if (frame.type === 'init') {
      this.attempt = 0;
      this.online.clear();
      for (const source of frame.online_sources) this.online.set(source.source_id, source);
      this.setState('live');
    } else if (frame.type === 'source_status') {
      if (frame.status === 'online') this.online.set(frame.source_id, { source_id: frame.source_id });
      else this.online.delete(frame.source_id);
      this.notify();
    } else if (frame.type === 'error' && this.state !== 'live' && typeof frame.message === 'string') {
      this.refusal = frame.message;
    }
    for (const listener of this.listeners) listener(frame);
  }

  private retry(): void {
    const ceiling = Math.min(15_000, 1000 * 2 ** this.attempt);
    this.attempt++;
    this.timer = setTimeout(() => this.connect(), ceiling / 2 + Math.random() * (ceiling / 2));
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    this.notify();
  }

  private notify(): void {
    for (const listener of this.stateListeners) listener();
  }
}

/**
 * The socket address from /api/config. A server left at its default hands out a loopback
 * address; a browser on another machine then uses the host it reached the dashboard at.
 */
export function realtimeUrl(wsUrl: string): string {
  const url = new URL(wsUrl);
  const loopback = (host: string) => host === 'localhost' || host === '[::1]' || host === '::1' || host.startsWith('127.');
  if (loopback(url.hostname) && !loopback(location.hostname)) url.hostname = location.hostname;
  return `${url.toString().replace(/\/+$/, '')}/ws`;
}

/** A short random id for streams, sessions and commands. */
export function randomId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
