/**
 * The load generators' HTTP/1.1 client (bench:ingest for Plexus and InfluxDB, bench:alerts): one
 * keep-alive socket per client, each request written as one buffer (head and body made before it
 * is sent), each answer read only as far as its status line and Content-Length.
 *
 * Hand-written because the load generator shares the 2 cores with what it measures, and its cost
 * is part of every figure: node:http cost 370–480 µs of CPU per 100 kB request here (0.6–1.1 µs a
 * point of bench:ingest's headline, a tenth of the machine in the timed span), undici the same
 * within noise; this client 85–150 µs, most of it the kernel's copy into the socket.
 */
import { connect, type Socket } from 'node:net';

const HEAD_END = Buffer.from('\r\n\r\n');

/** A request ready to send: the head and body of one POST as one buffer. */
export function postRequest(url: URL, headers: Record<string, string>, body: Buffer): Buffer {
  let head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  head += `content-length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** One keep-alive connection sending one request at a time. */
export class LoadConnection {
  private readonly socket: Socket;
  private readonly ready: Promise<void>;
  private received: Buffer = Buffer.alloc(0);
  private waiting?: { resolve: (status: number) => void; reject: (error: Error) => void };
  private failure?: Error;

  constructor(url: URL) {
    this.socket = connect(Number(url.port || 80), url.hostname);
    this.socket.setNoDelay(true);
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    // A connection that fails before any request is sent must not end the process: send() rethrows it.
    this.ready.catch(() => undefined);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  /** Sends one request (from postRequest); answers the status code once the whole answer is read. */
  async send(request: Buffer): Promise<number> {
    await this.ready;
    if (this.failure) throw this.failure;
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(request);
    });
  }

  close(): void {
    this.failure ??= new Error('closed');
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.received = this.received.length ? Buffer.concat([this.received, chunk]) : chunk;
    const headEnd = this.received.indexOf(HEAD_END);
    if (headEnd < 0) return;
    const head = this.received.toString('latin1', 0, headEnd);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!status || (!length && status !== 204 && status !== 304) || /\r\n(transfer-encoding|connection: *close)/i.test(head)) {
      this.fail(new Error(`an answer the load client does not read (it reads Content-Length answers on a kept connection): ${head}`));
      return;
    }
    const end = headEnd + HEAD_END.length + (length ? Number(length[1]) : 0);
    if (this.received.length < end) return;
    if (this.received.length > end) {
      this.fail(new Error('bytes after the answer, with no request waiting for them'));
      return;
    }
    this.received = Buffer.alloc(0);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve(status);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error);
  }
}
