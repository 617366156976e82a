/**
 * `npm start`: runs all four apps on this machine with the contract's defaults, waits until
 * each is ready, and prints where to go. Ctrl-C stops them all; if one dies, all stop.
 */
import { APPS, appPort, spawnApp, type SpawnedApp, waitUntilReady } from './platform-process.js';

const env = { ...process.env };
const running: SpawnedApp[] = [];
let stopping = false;

function stopAll(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const app of running) app.child.kill('SIGTERM');
  void Promise.all(running.map((app) => app.exited)).then(() => process.exit(code));
}

process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

const print = (app: string, line: string) => process.stdout.write(`${app.padEnd(8)} | ${line}\n`);

try {
  // pairing first: it migrates the database and creates the default org before the others ask for keys.
  for (const name of APPS) {
    const app = spawnApp(name, env, print);
    running.push(app);
    void app.exited.then((code) => {
      if (!stopping) {
        print('plexus', `${name} exited with code ${code}; stopping the platform`);
        stopAll(1);
      }
    });
    await waitUntilReady(app, appPort(name, env), 120_000);
  }
  const gateway = `http://127.0.0.1:${appPort('gateway', env)}`;
  const lines = [
    '',
    'Plexus is running.',
    `  Dashboard   ${gateway}/   (sign in with the admin key)`,
    `  HTTP API    ${gateway}/api   (health: ${gateway}/health/ready)`,
    `  WebSocket   ws://127.0.0.1:${appPort('realtime', env)}/ws`,
    '  Admin key   PLEXUS_BOOTSTRAP_ADMIN_KEY, or the key printed above by pairing on first start',
    `  Try it      curl -X POST ${gateway}/api/ingest -H "x-api-key: $KEY" -H "Content-Type: application/json" \\`,
    `                -d '{"points":[{"metric":"temperature","value":72.5,"source_id":"sensor-001"}]}'`,
    `              curl "${gateway}/api/query?source_id=sensor-001&metric=temperature" -H "x-api-key: $KEY"`,
    '',
  ];
  for (const line of lines) print('plexus', line);
} catch (error) {
  print('plexus', `could not start: ${(error as Error).message}`);
  stopAll(1);
}
