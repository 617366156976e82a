import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);
const BIN = process.env.PLEXUS_TEST_PG_BIN || '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL 15 cluster of one test's own (own data directory under /tmp, own port), for fault
 * tests that stop and restart the database: the shared server is never touched. As root, initdb
 * and pg_ctl run as the `postgres` user, as PostgreSQL requires.
 */
export class PrivatePostgres {
  private constructor(
    readonly dataDir: string,
    readonly port: number,
    private readonly asPostgres: boolean,
  ) {}

  /** `postgres://postgres@127.0.0.1:PORT` — append `/database`. */
  get root(): string {
    return `postgres://postgres@127.0.0.1:${this.port}`;
  }

  static async start(): Promise<PrivatePostgres> {
    const base = mkdtempSync(join(tmpdir(), 'plexus-pg-'));
    const dataDir = join(base, 'data');
    const asPostgres = process.getuid?.() === 0;
    const cluster = new PrivatePostgres(dataDir, await freePort(), asPostgres);
    if (asPostgres) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(base, Number(stdout.trim()), Number(gid.trim()));
    }
    await cluster.pg('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    await cluster.resume();
    return cluster;
  }

  /** Starts (again) on the same port and data; resolves once it accepts connections. */
  async resume(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dataDir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
    await this.pg('pg_ctl', ['-D', this.dataDir, '-o', options, '-l', join(this.dataDir, 'server.log'), '-w', '-t', '60', 'start']);
  }

  /** Stops it; `immediate` is a crash as far as clients see: every connection cut at once. */
  async stop(mode: 'immediate' | 'fast' = 'immediate'): Promise<void> {
    await this.pg('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    rmSync(join(this.dataDir, '..'), { recursive: true, force: true });
  }

  private async pg(tool: string, args: string[]): Promise<void> {
    const binary = join(BIN, tool);
    if (this.asPostgres) await run('runuser', ['-u', 'postgres', '--', binary, ...args]);
    else await run(binary, args);
  }
}
