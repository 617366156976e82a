import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { restartDelayMs } from '../scripts/supervisor.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';

// `npm start` supervises: an app that dies (here kill -9 of realtime, as an unhandled exception
// would end it) is reported and started again with backoff, and the platform keeps running; only
// Ctrl-C stops it, and then every app goes. Run `npm run build` first (npm test does).

let platform: Platform;
let launcher: ChildProcess | undefined;
const output: string[] = [];
const text = () => output.join('');
const logDir = mkdtempSync(join(tmpdir(), 'plexus-supervisor-logs-'));

afterAll(async () => {
  if (launcher && launcher.exitCode === null) launcher.kill('SIGKILL');
  for (const pid of pidsSeen()) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await platform?.stop();
  rmSync(logDir, { recursive: true, force: true });
});

/** Every app pid the launcher announced ("<app> started (pid N)"). */
function pidsSeen(app = '\\w+'): number[] {
  return [...text().matchAll(new RegExp(`^plexus\\s+\\| ${app} started \\(pid (\\d+)\\)$`, 'gm'))].map((match) => Number(match[1]));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const ready = async (port: number) => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.status === 200;

describe('restart backoff', () => {
  it('waits 0.5 s after a first exit, doubling with each exit in a row up to 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map((exits) => restartDelayMs(exits))).toEqual([
      500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });
});

describe('npm start supervises', () => {
  it('restarts an app killed with SIGKILL, says so, keeps running; Ctrl-C then stops every app', async () => {
    // JSON logs this time (start.e2e-spec.ts runs the text format): the launcher reads both.
    platform = await Platform.start({ apps: [], env: { PLEXUS_START_LOG_DIR: logDir, PLEXUS_LOG_FORMAT: 'json' } });
    launcher = spawn(process.execPath, [join(process.cwd(), 'dist/scripts/start.js')], {
      env: platform.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    launcher.stdout?.on('data', (chunk) => output.push(String(chunk)));
    launcher.stderr?.on('data', (chunk) => output.push(String(chunk)));
    const exited = new Promise<number | null>((resolve) => launcher?.once('exit', resolve));
    await waitFor(
      '"Plexus is running."',
      () => text().includes('Plexus is running.'),
      120_000,
      () => text().slice(-2000),
    );

    const [realtime] = pidsSeen('realtime');
    expect(realtime).toBeGreaterThan(0);
    process.kill(realtime, 'SIGKILL');

    // Reported loudly, then started again and ready.
    await waitFor(
      'the exit reported',
      () => /realtime exited \(signal SIGKILL\); restarting in 0\.5 s \(restart #1\)/.test(text()),
      10_000,
      () => text().slice(-2000),
    );
    const restarted = await waitFor(
      'realtime started again',
      () => pidsSeen('realtime')[1],
      10_000,
      () => text().slice(-2000),
    );
    expect(restarted).not.toBe(realtime);
    await waitFor(
      'realtime ready again',
      () => ready(platform.ports.realtime),
      60_000,
      () => text().slice(-2000),
    );
    await waitFor('the launcher to say so', () => text().includes(`realtime is ready again (pid ${restarted}, restart #1)`), 10_000);
    expect(launcher.exitCode).toBeNull();
    // The others never stopped: still the first (and only) process of each.
    for (const app of ['pairing', 'ingest', 'gateway']) {
      expect(pidsSeen(app)).toHaveLength(1);
      expect(alive(pidsSeen(app)[0])).toBe(true);
    }
    expect(await ready(platform.ports.gateway)).toBe(true);
    // Both lives of realtime are in its one log file; neither boot's log reached the terminal.
    const listening = `realtime listening on http://127.0.0.1:${platform.ports.realtime}`;
    const boots = () => readFileSync(join(logDir, 'realtime.log'), 'utf8').split(listening).length - 1;
    await waitFor('both boots of realtime in its log file', () => boots() === 2, 10_000);
    expect(text()).not.toContain(listening);

    launcher.kill('SIGINT');
    expect(await exited).toBe(0);
    // No app left behind: every process the launcher started is gone, nothing answers on the ports.
    expect(pidsSeen().filter(alive)).toEqual([]);
    for (const port of Object.values(platform.ports)) await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  }, 180_000);
});
