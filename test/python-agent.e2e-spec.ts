import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';
import { type Frame, TestSocket } from './support/ws-client.js';

/*
 * Issue 15, item 5, with the real Python agent (plexus-agent 0.3.x), not a client that behaves
 * like it: a recording survives a kill -9 of the realtime instance holding the device.
 *
 * The agent is not on npm or Debian, so this runs only where its source is at hand:
 *   PLEXUS_PYTHON_AGENT=<a checkout of plexus-agent 0.3.13>   (its `plexus` package inside)
 *   PLEXUS_PYTHON=<a python3 with websockets, requests, click> (default python3; Debian:
 *                  apt-get install python3-websockets python3-requests python3-click)
 * Otherwise the file says why it skipped. `plexus pair` posts to app.plexus.company whatever the
 * endpoint, so the test pairs through the API and writes ~/.plexus/config.json as `plexus pair`
 * does; the device is test/support/python-agent-driver.py (the agent's own connector and a counter
 * sensor, since `plexus run` only finds I2C sensors).
 */

const AGENT_DIR = process.env.PLEXUS_PYTHON_AGENT ?? '';
const PYTHON = process.env.PLEXUS_PYTHON || 'python3';
const DRIVER = join(process.cwd(), 'test/support/python-agent-driver.py');

function missing(): string | undefined {
  if (!AGENT_DIR) return 'PLEXUS_PYTHON_AGENT is not set';
  if (!existsSync(join(AGENT_DIR, 'plexus', 'connector.py'))) return `${AGENT_DIR} holds no plexus/connector.py`;
  const probe = spawnSync(PYTHON, ['-c', 'import websockets, requests, click, plexus.connector'], {
    env: { ...process.env, PYTHONPATH: AGENT_DIR },
    encoding: 'utf8',
  });
  if (probe.status !== 0) return `${PYTHON} cannot import the agent: ${(probe.stderr || String(probe.error)).trim().split('\n').at(-1)}`;
  return undefined;
}

const skipped = missing();
if (skipped) console.log(`Python agent tests skipped: ${skipped}`);
const describeWithAgent = skipped ? describe.skip : describe;

let platform: Platform;
let agent: ChildProcess | undefined;
const output: string[] = [];
const sockets: TestSocket[] = [];
const home = mkdtempSync(join(tmpdir(), 'plexus-python-agent-'));

beforeAll(async () => {
  if (skipped) return;
  platform = await Platform.start();
}, 180_000);

afterAll(async () => {
  for (const socket of sockets) socket.close();
  if (agent && agent.exitCode === null) {
    const exited = new Promise((resolve) => agent?.once('exit', resolve));
    agent.kill('SIGKILL');
    await exited;
  }
  await platform?.stop();
  rmSync(home, { recursive: true, force: true });
});

async function browser(): Promise<TestSocket> {
  const socket = await TestSocket.browser(`ws://127.0.0.1:${platform.ports.realtime}/ws`, platform.adminKey);
  sockets.push(socket);
  return socket;
}

const online = (sourceId: string) => (frame: Frame) =>
  frame.type === 'source_status' && frame.source_id === sourceId && frame.status === 'online';

/** Points of the session and the newest point's time (ms). */
async function recorded(sessionId: string): Promise<{ count: number; lastMs: number }> {
  const { rows } = await platform.db.query(
    `SELECT count(*)::int AS count, coalesce(extract(epoch FROM max(time)) * 1000, 0)::float8 AS last FROM telemetry WHERE session_id = $1`,
    [sessionId],
  );
  return { count: rows[0].count, lastMs: rows[0].last };
}

async function sessionStatus(sessionId: string): Promise<string> {
  return ((await (await platform.api(`/api/sessions/${sessionId}`)).json()) as { status: string }).status;
}

describeWithAgent('the real Python agent recording when its realtime instance is killed', () => {
  it('is sent start_session again when it reconnects, records on, and the session completes with points after the crash', async () => {
    const device = await platform.pairDevice('Python agent rig');
    // What `plexus pair --code` writes (plexus/cli.py), with this platform's endpoint.
    mkdirSync(join(home, '.plexus'), { recursive: true });
    const config = { device_token: device.device_token, source_id: device.source_id, org_id: device.org_id, endpoint: platform.gateway };
    writeFileSync(join(home, '.plexus', 'config.json'), JSON.stringify(config));

    const watcher = await browser();
    agent = spawn(PYTHON, ['-u', DRIVER], {
      env: {
        ...process.env,
        HOME: home,
        PYTHONPATH: AGENT_DIR,
        PLEXUS_WS_URL: `ws://127.0.0.1:${platform.ports.realtime}`,
        PLEXUS_ENDPOINT: platform.gateway,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    agent.stdout?.on('data', (chunk) => output.push(String(chunk)));
    agent.stderr?.on('data', (chunk) => output.push(String(chunk)));
    const said = () => output.join('').split('\n').slice(-15).join('\n');
    await watcher.next(online(device.source_id), 30_000);

    const sessionId = 'python-agent-crash';
    watcher.send({
      type: 'start_session',
      source_id: device.source_id,
      session_id: sessionId,
      session_name: 'Python agent crash',
      metrics: [`${device.source_id}:temp`],
      interval_ms: 100,
    });
    await waitFor('the agent recording', async () => (await recorded(sessionId)).count >= 10, 20_000, said);

    expect(await platform.stopApp('realtime', 'SIGKILL')).toBeNull();
    const before = await recorded(sessionId);
    await platform.startApp('realtime');
    const restartedMs = Date.now();
    expect(await sessionStatus(sessionId)).toBe('active');

    // The agent reconnects on its own (after 5 s), is sent the session again, and records on.
    await waitFor(
      'points recorded after the restart',
      async () => {
        const now = await recorded(sessionId);
        return now.count >= before.count + 10 && now.lastMs > restartedMs;
      },
      60_000,
      said,
    );
    expect(output.join('')).toMatch(
      /Starting session 'Python agent crash' \(python-agent-crash\)[\s\S]*Starting session 'Python agent crash'/,
    );

    const stopper = await browser();
    stopper.send({ type: 'stop_session', source_id: device.source_id, session_id: sessionId });
    await waitFor('the session completed', async () => (await sessionStatus(sessionId)) === 'completed', 20_000, said);
    const after = await recorded(sessionId);
    expect(after.count).toBeGreaterThanOrEqual(before.count + 10);
    expect(after.lastMs).toBeGreaterThan(restartedMs);
  }, 180_000);
});
