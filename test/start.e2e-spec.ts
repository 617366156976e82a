import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';

// `npm start` as a new user runs it: the launcher (dist/scripts/start.js, what `npm start` runs
// after building) on an empty machine — here a database that does not exist yet, its own NATS
// prefix and free ports — with no admin key chosen. Run `npm run build` first (npm test does).

let platform: Platform;
let launcher: ChildProcess | undefined;
const output: string[] = [];
const logDir = mkdtempSync(join(tmpdir(), 'plexus-start-logs-'));
const logOf = (app: string) => readFileSync(join(logDir, `${app}.log`), 'utf8');

afterAll(async () => {
  if (launcher && launcher.exitCode === null) launcher.kill('SIGKILL');
  await platform?.stop();
  rmSync(logDir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('creates the database, starts all four apps, prints the admin key once and where to go; the contract example works; Ctrl-C stops it all', async () => {
    // No apps started by the test: only the environment (ports, database name, prefix).
    platform = await Platform.start({ apps: [], env: { PLEXUS_BOOTSTRAP_ADMIN_KEY: '', PLEXUS_START_LOG_DIR: logDir } });
    launcher = spawn(process.execPath, [join(process.cwd(), 'dist/scripts/start.js')], {
      env: platform.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    launcher.stdout?.on('data', (chunk) => output.push(String(chunk)));
    launcher.stderr?.on('data', (chunk) => output.push(String(chunk)));
    const exited = new Promise<number | null>((resolve) => launcher?.once('exit', resolve));

    const text = () => output.join('');
    await waitFor(
      '"Plexus is running."',
      () => text().includes('Plexus is running.'),
      120_000,
      () => text().slice(-2000),
    );
    const gateway = `http://127.0.0.1:${platform.ports.gateway}`;
    expect(text()).toContain(`Dashboard   ${gateway}/`);
    expect(text()).toContain(`WebSocket   ws://127.0.0.1:${platform.ports.realtime}/ws`);
    expect(text()).toContain(`HTTP API    ${gateway}/api`);
    const keys = text().match(/plx_[A-Za-z0-9]{40}/g) ?? [];
    expect(keys).toHaveLength(1);
    const key = keys[0] as string;

    // Quiet: the key and the URLs are in the closing summary, below no boot log of any app. The
    // terminal says where the full logs are; there they are, without the key.
    const summary = text().slice(text().indexOf('Plexus is running.'));
    expect(summary).toMatch(new RegExp(`^plexus +\\| +Admin key +${key}$`, 'm'));
    expect(summary).toContain(`Dashboard   ${gateway}/`);
    expect(text()).toContain(`full logs of every app: ${join(logDir, '<app>.log')}`);
    expect(text()).not.toMatch(/listening on http|Nest application successfully started|RoutesResolver/);
    expect(text().split('\n').length).toBeLessThan(40);
    for (const app of ['pairing', 'ingest', 'gateway', 'realtime'] as const) {
      const listening = `${app} listening on http://127.0.0.1:${platform.ports[app]}`;
      await waitFor(
        `${app}'s boot log in its file`,
        () => logOf(app).includes(listening),
        10_000,
        () => logOf(app).slice(-2000),
      );
      expect(logOf(app)).not.toContain(key);
    }
    expect(logOf('pairing')).toMatch(/created org "default"; its admin API key \(shown once, keep it\): plx_…\(redacted\)/);

    // The contract's ingest example with that key, then the point back from /api/query.
    const headers = { 'x-api-key': key, 'content-type': 'application/json' };
    const body = JSON.stringify({ points: [{ metric: 'temperature', value: 72.5, timestamp: 1699900000, source_id: 'sensor-001' }] });
    const accepted = await fetch(`${gateway}/api/ingest`, { method: 'POST', headers, body });
    expect({ status: accepted.status, body: await accepted.json() }).toEqual({ status: 200, body: { success: true, accepted: 1 } });
    const point = await waitFor('the point queryable', async () => {
      const answer = (await (await fetch(`${gateway}/api/query?source_id=sensor-001&metric=temperature`, { headers })).json()) as {
        points: unknown[];
      };
      return answer.points[0];
    });
    expect(point).toEqual({ timestamp: 1699900000, value: 72.5 });

    launcher.kill('SIGINT');
    expect(await exited).toBe(0);
    // Every app went with it: nothing answers on their ports.
    for (const port of Object.values(platform.ports)) {
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    }
  }, 180_000);

  it('on a later start of the same database shows no key: it was created, and shown, once', async () => {
    const again: string[] = [];
    launcher = spawn(process.execPath, [join(process.cwd(), 'dist/scripts/start.js')], {
      env: platform.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    launcher.stdout?.on('data', (chunk) => again.push(String(chunk)));
    launcher.stderr?.on('data', (chunk) => again.push(String(chunk)));
    const exited = new Promise<number | null>((resolve) => launcher?.once('exit', resolve));
    await waitFor(
      '"Plexus is running." again',
      () => again.join('').includes('Plexus is running.'),
      120_000,
      () => again.join('').slice(-2000),
    );
    expect(again.join('')).not.toMatch(/plx_[A-Za-z0-9]/);
    expect(again.join('')).toContain('Admin key   the one shown by the first start on this database');
    launcher.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 180_000);
});
