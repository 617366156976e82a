/**
 * `npm start`: runs all four apps on this machine with the contract's defaults, waits until
 * each is ready, and prints where to go. It supervises: an app that exits is reported and
 * started again with backoff (scripts/supervisor.ts). Only Ctrl-C or SIGTERM stops the platform:
 * every app gets SIGTERM, and the launcher exits once they are all gone.
 */
import { APPS, appPort } from './platform-process.js';
import { SupervisedApp } from './supervisor.js';

const env = { ...process.env };
const print = (app: string, line: string) => process.stdout.write(`${app.padEnd(8)} | ${line}\n`);
const apps = APPS.map((name) => new SupervisedApp(name, env, print));
let stopping = false;

function stopAll(signal: NodeJS.Signals): void {
  if (stopping) {
    // A second Ctrl-C: do not wait for graceful stops any more.
    print('plexus', `${signal} again: killing the apps`);
    for (const app of apps) void app.stop('SIGKILL');
    return;
  }
  stopping = true;
  print('plexus', `${signal}: stopping every app`);
  void Promise.all(apps.map((app) => app.stop('SIGTERM'))).then(() => {
    print('plexus', 'stopped');
    process.exit(0);
  });
}

process.on('SIGINT', () => stopAll('SIGINT'));
process.on('SIGTERM', () => stopAll('SIGTERM'));

// pairing first: it migrates the database and creates the default org before the others ask for keys.
for (const app of apps) {
  if (stopping) break;
  app.start();
  const waiting = setInterval(() => print('plexus', `still waiting for ${app.name} to be ready on port ${app.port}`), 30_000);
  await app.ready();
  clearInterval(waiting);
}
if (!stopping) {
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
    '  Stop        Ctrl-C (an app that exits on its own is restarted)',
    '',
  ];
  for (const line of lines) print('plexus', line);
}
