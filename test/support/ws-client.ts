import { WebSocket } from 'ws';
import { waitFor } from './wait-for.js';

export type Frame = Record<string, any> & { type: string };

/** A WebSocket test client that keeps every frame it receives and waits for the ones it wants. */
export class TestSocket {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private cursor = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.frames.push(JSON.parse(String(data)) as Frame));
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }

  static async open(url: string): Promise<TestSocket> {
    const ws = new WebSocket(url);
    const socket = new TestSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return socket;
  }

  /** A browser signed in with `apiKey` on the realtime server at `url`, its `init` frame taken. */
  static async browser(url: string, apiKey: string): Promise<TestSocket> {
    const socket = await TestSocket.open(url);
    socket.send({ type: 'browser_auth', api_key: apiKey });
    await socket.nextOfType('init');
    return socket;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame (after those already taken) matching `predicate`. */
  async next(predicate: (frame: Frame) => boolean = () => true, timeoutMs = 5000): Promise<Frame> {
    const from = this.cursor;
    return waitFor(
      'a matching frame',
      () => {
        for (let i = this.cursor; i < this.frames.length; i++) {
          if (predicate(this.frames[i])) {
            this.cursor = i + 1;
            return this.frames[i];
          }
        }
        return undefined;
      },
      timeoutMs,
      () => `received meanwhile: ${this.summary(from)}`,
    );
  }

  /** The frames from `from` on, telemetry runs folded, to explain a wait. */
  private summary(from: number): string {
    const seen = this.frames.slice(from).map((frame) => (frame.type === 'telemetry' ? 'telemetry' : JSON.stringify(frame).slice(0, 200)));
    const folded = seen.filter((text, i) => text !== 'telemetry' || seen[i - 1] !== 'telemetry');
    return folded.slice(-12).join(' | ') || 'nothing';
  }

  nextOfType(type: string, timeoutMs = 5000): Promise<Frame> {
    return this.next((frame) => frame.type === type, timeoutMs);
  }

  /** Closes politely; a peer that never answers the close (a server being stopped) is cut off after 500 ms. */
  close(): void {
    this.ws.close();
    setTimeout(() => this.ws.terminate(), 500).unref();
  }
}
