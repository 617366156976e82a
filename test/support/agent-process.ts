import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** The built `plexus` CLI (npm run build). */
export const AGENT_CLI = join(process.cwd(), 'apps/agent/dist/cli/main.js');

/** The `plexus` agent as a user runs it: its own HOME (so its own ~/.plexus), one process per command. */
export class AgentProcess {
  readonly home = mkdtempSync(join(tmpdir(), 'plexus-agent-home-'));
  readonly output: string[] = [];
  private child: ChildProcess | undefined;

  private get env(): NodeJS.ProcessEnv {
    return { ...process.env, HOME: this.home, PLEXUS_ENDPOINT: '' };
  }

  async pair(code: string, endpoint: string): Promise<string> {
    const { stdout } = await run(process.execPath, [AGENT_CLI, 'pair', '--code', code, '--endpoint', endpoint], {
      env: this.env,
      timeout: 30_000,
    });
    return stdout;
  }

  start(args: string[] = ['--no-sensors', '--simulate']): void {
    const child = spawn(process.execPath, [AGENT_CLI, 'run', ...args], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk) => this.output.push(String(chunk)));
    child.stderr?.on('data', (chunk) => this.output.push(String(chunk)));
    this.child = child;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(this.home, { recursive: true, force: true });
  }
}
