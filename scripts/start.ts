/**
 * `npm start`: runs all four apps on this machine with the contract's defaults, waits until
 * each is ready, and prints where to go. It supervises: an app that exits is reported and
 * started again with backoff (scripts/supervisor.ts). Only Ctrl-C or SIGTERM stops the platform:
 * every app gets SIGTERM, and the launcher exits once they are all gone.
 *
 * Quiet by default: the terminal shows the apps' warnings and errors, the supervisor's messages
 * and a closing summary (URLs, the admin key created on this start); every app's full log goes
 * to .plexus/logs/<app>.log (PLEXUS_START_LOG_DIR elsewhere). `npm start -- --verbose` or
 * PLEXUS_START_VERBOSE=1 shows every line on the terminal as well.
 */
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// The config readers alone, not #common: the launcher loads no Nest.
import { readVariables } from '../libs/common/src/config/read-variables.js';
import { variablesOf } from '../libs/common/src/config/variables.js';
import { AppOutput } from './app-output.js';
import { APPS, appPort } from './platform-process.js';
import { SupervisedApp } from './supervisor.js';

const env = { ...process.env };
const print = (app: string, line: string) => process.stdout.write(`${app.padEnd(8)} | ${line}\n`);
const settings = readVariables(variablesOf('start'), env);
const verbose = process.argv.includes('--verbose') || settings.PLEXUS_START_VERBOSE === '1';
// The checkout's root: this file runs as dist/scripts/start.js.
const logDir = resolve(settings.PLEXUS_START_LOG_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.plexus', 'logs'));
const output = new AppOutput({ logDir, verbose, print });
const shownLogDir = relative(process.cwd(), logDir).startsWith('..') ? logDir : relative(process.cwd(), logDir) || '.';
print('plexus', `full logs of every app: ${join(shownLogDir, '<app>.log')}${verbose ? '' : ' (npm start -- --verbose shows them here)'}`);
const apps = APPS.map((name) => new SupervisedApp(name, env, print, output.write));
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
  void Promise.all(apps.map((app) => app.stop('SIGTERM')))
    .then(() => output.close())
    .then(() => {
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
  const adminKey = output.adminKey
    ? [`  Admin key   ${output.adminKey}`, '              created on this first start and shown only this once: keep it']
    : env.PLEXUS_BOOTSTRAP_ADMIN_KEY
      ? ['  Admin key   the one chosen with PLEXUS_BOOTSTRAP_ADMIN_KEY on the first start']
      : ['  Admin key   the one shown by the first start on this database (stored hashed, never shown again)'];
  const lines = [
    '',
    'Plexus is running.',
    `  Dashboard   ${gateway}/   (sign in with the admin key)`,
    `  HTTP API    ${gateway}/api   (health: ${gateway}/health/ready)`,
    `  WebSocket   ws://127.0.0.1:${appPort('realtime', env)}/ws`,
    ...adminKey,
    `  Try it      curl -X POST ${gateway}/api/ingest -H "x-api-key: $KEY" -H "Content-Type: application/json" \\`,
    `                -d '{"points":[{"metric":"temperature","value":72.5,"source_id":"sensor-001"}]}'`,
    `              curl "${gateway}/api/query?source_id=sensor-001&metric=temperature" -H "x-api-key: $KEY"`,
    `  Logs        ${join(shownLogDir, '<app>.log')} (pairing, ingest, gateway, realtime, alerts)`,
    '  Stop        Ctrl-C (an app that exits on its own is restarted)',
    '',
  ];
  for (const line of lines) print('plexus', line);
}
