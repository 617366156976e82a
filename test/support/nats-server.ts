import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NodeConnectionOptions } from '@nats-io/transport-node';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

const BINARY =
  ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((path) => existsSync(path)) ?? 'nats-server';

export interface PrivateNatsOptions {
  /** nats.conf text (authorization, tls blocks…); the port, address and JetStream store are set on the command line. */
  config?: string;
  /** How the readiness probe signs in, when the config asks clients for credentials or TLS. */
  probe?: Partial<NodeConnectionOptions>;
}

/** A private NATS server with JetStream, for tests that stop the broker without disturbing the machine's. */
export class PrivateNatsServer {
  private child?: ChildProcess;
  private readonly storeDir = mkdtempSync(join(tmpdir(), 'plexus-nats-'));
  private readonly configFile?: string;

  private constructor(
    readonly port: number,
    private readonly options: PrivateNatsOptions,
  ) {
    if (options.config !== undefined) {
      this.configFile = join(this.storeDir, 'nats.conf');
      writeFileSync(this.configFile, options.config);
    }
  }

  static async start(options: PrivateNatsOptions = {}): Promise<PrivateNatsServer> {
    const server = new PrivateNatsServer(await freePort(), options);
    try {
      await server.resume();
    } catch (error) {
      await server.destroy();
      throw error;
    }
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port and store, so streams survive a stop. */
  async resume(): Promise<void> {
    const config = this.configFile ? ['-c', this.configFile] : [];
    this.child = spawn(BINARY, [...config, '-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', join(this.storeDir, 'js')], {
      stdio: 'ignore',
    });
    await waitFor('the private NATS server to accept connections', async () => {
      const nc = await connect({ servers: this.url, timeout: 500, ...this.options.probe });
      await nc.close();
      return true;
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
