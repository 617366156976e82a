import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { raiseFileLimit } from './file-limit.js';

/** The five apps and how to reach each one's health endpoint, from one set of environment variables. */
export const APPS = ['pairing', 'ingest', 'gateway', 'realtime', 'alerts'] as const;
export type AppName = (typeof APPS)[number];

const PORT_VARIABLES: Record<AppName, [string, number]> = {
  gateway: ['GATEWAY_PORT', 8080],
  realtime: ['REALTIME_PORT', 8081],
  ingest: ['INGEST_HTTP_PORT', 8082],
  pairing: ['PAIRING_HTTP_PORT', 8083],
  alerts: ['ALERTS_HTTP_PORT', 8084],
};

/** The variable that sets an app's port (GATEWAY_PORT, INGEST_HTTP_PORT…). */
export function appPortVariable(app: AppName): string {
  return PORT_VARIABLES[app][0];
}

export function appPort(app: AppName, env: NodeJS.ProcessEnv): number {
  const [variable, fallback] = PORT_VARIABLES[app];
  return Number(env[variable] || fallback);
}

/** `dist/` root: this file is compiled to dist/scripts/, and ts-jest runs it from scripts/. */
function distRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(`${join('dist', 'scripts')}`) ? join(here, '..') : join(here, '..', 'dist');
}

export function appEntry(app: AppName): string {
  return join(distRoot(), 'apps', app, 'src', 'main.js');
}

export interface SpawnedApp {
  name: AppName;
  child: ChildProcess;
  exited: Promise<number | null>;
}

export function spawnApp(
  app: AppName,
  env: NodeJS.ProcessEnv,
  output: (app: AppName, line: string, stream: 'stdout' | 'stderr') => void,
): SpawnedApp {
  const child = spawn(process.execPath, ['--enable-source-maps', appEntry(app)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  // Node cannot raise its own open-file limit; realtime holds one file per socket, and many hosts
  // start processes at 1,024 soft under a far higher hard limit (docs/deploy.md, "Open files").
  if (child.pid !== undefined) void raiseFileLimit(child.pid);
  // readline holds a partial line until its end arrives and gives the unterminated tail when the app exits.
  for (const [stream, name] of [
    [child.stdout, 'stdout'],
    [child.stderr, 'stderr'],
  ] as const) {
    if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => output(app, line, name));
  }
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { name: app, child, exited };
}

/** Polls the app's `/health/ready` until it answers 200, the process exits, or the deadline passes. */
export async function waitUntilReady(app: SpawnedApp, port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void app.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${app.name} exited before it was ready`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${app.name} was not ready on port ${port} within ${timeoutMs} ms`);
}
