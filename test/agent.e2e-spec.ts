import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';
import { type Frame, TestSocket } from './support/ws-client.js';

const run = promisify(execFile);
const CLI = join(process.cwd(), 'apps/agent/dist/cli/main.js');

let platform: Platform;
const homes: string[] = [];
const agents: ChildProcess[] = [];
/** What the latest agent printed, to explain a wait that failed. */
let latestAgentOutput: string[] = [];
const sockets: TestSocket[] = [];

beforeAll(async () => {
  platform = await Platform.start();
}, 120_000);

afterAll(async () => {
  for (const agent of agents) agent.kill('SIGKILL');
  for (const socket of sockets) socket.close();
  await platform?.stop();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'plexus-agent-home-'));
  homes.push(home);
  return home;
}

function plexus(home: string, args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, [CLI, ...args], { env: { ...process.env, HOME: home, PLEXUS_ENDPOINT: '', ...env }, timeout: 30_000 }).then(
    (result) => ({ code: 0, ...result }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

async function newCode(): Promise<string> {
  return (
    (await (await platform.api('/api/sources/pair', { method: 'POST', body: JSON.stringify({ name: 'Agent Pi' }) })).json()) as {
      code: string;
    }
  ).code;
}

function startAgent(home: string, args: string[]): { process: ChildProcess; output: string[] } {
  const output: string[] = [];
  const child = spawn(process.execPath, [CLI, 'run', ...args], {
    env: { ...process.env, HOME: home, PLEXUS_ENDPOINT: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => output.push(String(chunk)));
  child.stderr?.on('data', (chunk) => output.push(String(chunk)));
  agents.push(child);
  latestAgentOutput = output;
  return { process: child, output };
}

/** Rethrows with the latest agent's log attached. */
function withAgentLog(error: Error): never {
  throw new Error(`${error.message}\nthe agent printed:\n${latestAgentOutput.join('').split('\n').slice(-30).join('\n')}`);
}

async function browser(): Promise<TestSocket> {
  const socket = await TestSocket.browser(`ws://127.0.0.1:${platform.ports.realtime}/ws`, platform.adminKey);
  sockets.push(socket);
  return socket;
}

/**
 * A browser that has seen the source online: in its init frame when the device was back
 * before the browser signed in, otherwise in a later source_status.
 */
async function browserSeeingOnline(sourceId: string, timeoutMs: number): Promise<TestSocket> {
  const socket = await browser();
  const init = socket.frames.find((frame) => frame.type === 'init') as Frame;
  const online = (init.online_sources as Array<{ source_id: string }>).some((source) => source.source_id === sourceId);
  if (!online) {
    await socket
      .next((f) => f.type === 'source_status' && f.source_id === sourceId && f.status === 'online', timeoutMs)
      .catch(withAgentLog);
  }
  return socket;
}

describe('plexus pair and run, against the real stack', () => {
  let home: string;
  let sourceId: string;
  let dashboard: TestSocket;

  beforeAll(async () => {
    home = newHome();
    const paired = await plexus(home, ['pair', '--code', (await newCode()).toLowerCase(), '--endpoint', platform.gateway]);
    expect(paired).toMatchObject({ code: 0 });
    const configFile = join(home, '.plexus', 'config.json');
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, string>;
    expect(config).toMatchObject({
      device_token: expect.stringMatching(/^plxd_/),
      org_id: 'default',
      source_name: 'Agent Pi',
      endpoint: platform.gateway,
    });
    expect(config.ws_url).toBe(`ws://127.0.0.1:${platform.ports.realtime}`);
    sourceId = config.source_id;
    dashboard = await browser();
    startAgent(home, ['--no-sensors', '--simulate']);
    await dashboard.next((f) => f.type === 'source_status' && f.source_id === sourceId && f.status === 'online', 15_000);
  }, 60_000);

  it('streams what the dashboard asks for, and configure changes the rate seen', async () => {
    dashboard.send({ type: 'start_stream', id: 's1', source_id: sourceId, metrics: [`${sourceId}:accel_x`], interval_ms: 100 });
    const first = await dashboard.next((f) => f.type === 'telemetry' && f.source_id === sourceId, 10_000);
    expect(first.points.every((p: { metric: string }) => p.metric === 'accel_x')).toBe(true);
    const rate = async () => {
      const from = dashboard.frames.length;
      const start = Date.now();
      await waitFor('two seconds of telemetry', () => Date.now() - start >= 2000 || undefined, 5000);
      const points = dashboard.frames
        .slice(from)
        .filter((f: Frame) => f.type === 'telemetry')
        .flatMap((f: Frame) => f.points);
      return points.length / 2;
    };
    const { sources } = (await (await platform.api('/api/sources')).json()) as {
      sources: Array<{ source_id: string; sensors: Array<{ name: string; sample_rate: number }> }>;
    };
    const imu = sources.find((s) => s.source_id === sourceId)?.sensors.find((s) => s.name === 'SimulatedIMU');
    expect(imu?.sample_rate).toBeGreaterThan(0);
    const before = await rate();
    dashboard.send({ type: 'configure', source_id: sourceId, sensor: 'SimulatedIMU', config: { sample_rate: imu!.sample_rate * 4 } });
    const after = await rate();
    expect(before).toBeGreaterThan(imu!.sample_rate / 2);
    expect(after).toBeGreaterThan(before * 2.5);
    dashboard.send({ type: 'stop_stream', id: '*', source_id: sourceId });
  }, 30_000);

  it('runs echo hello and streams its output and exit code', async () => {
    dashboard.send({ type: 'execute', source_id: sourceId, id: 'hello-1', command: 'echo hello' });
    expect(await dashboard.next((f) => f.type === 'output' && f.id === 'hello-1' && f.event === 'data')).toMatchObject({ data: 'hello' });
    expect(await dashboard.next((f) => f.type === 'output' && f.id === 'hello-1' && f.event === 'exit')).toMatchObject({ code: 0 });
  });

  it('cancel stops a sleep 60 within a second', async () => {
    dashboard.send({ type: 'execute', source_id: sourceId, id: 'sleepy', command: 'sleep 60' });
    await dashboard.next((f) => f.type === 'output' && f.id === 'sleepy' && f.event === 'start');
    const cancelled = Date.now();
    dashboard.send({ type: 'cancel', source_id: sourceId, id: 'sleepy' });
    await dashboard.next((f) => f.type === 'output' && f.id === 'sleepy' && f.event === 'exit', 3000);
    expect(Date.now() - cancelled).toBeLessThan(1000);
  });

  it('keeps a recorded session complete across a cut connection', async () => {
    dashboard.send({
      type: 'start_session',
      source_id: sourceId,
      session_id: 'agent-rec-1',
      session_name: 'Cut test',
      metrics: [`${sourceId}:accel_x`],
      interval_ms: 100,
    });
    await dashboard.next((f) => f.type === 'session_started' && f.session_id === 'agent-rec-1', 5000);
    await waitFor(
      'recorded points',
      async () => (await platform.count(`SELECT count(*) FROM telemetry WHERE session_id = 'agent-rec-1'`)) > 20,
      15_000,
    );
    // Cut: the realtime app dies; the agent keeps recording to its disk queue.
    await platform.stopApp('realtime', 'SIGKILL');
    const queueDir = join(home, '.plexus', 'queue');
    await waitFor(
      'a queued segment',
      () => {
        try {
          return readdirSync(queueDir).some((name) => statSync(join(queueDir, name)).size > 0) || undefined;
        } catch {
          return undefined;
        }
      },
      10_000,
    );
    await platform.startApp('realtime');
    dashboard = await browserSeeingOnline(sourceId, 40_000);
    await waitFor('the queue drained', () => readdirSync(queueDir).length === 0 || undefined, 20_000);
    dashboard.send({ type: 'stop_session', source_id: sourceId, session_id: 'agent-rec-1' });
    await dashboard.next((f) => f.type === 'session_stopped' && f.session_id === 'agent-rec-1', 5000).catch(withAgentLog);
    await waitFor(
      'the session completed',
      async () => ((await (await platform.api('/api/sessions/agent-rec-1')).json()) as { status: string }).status === 'completed',
    );
    await platform.drained();
    const { count, largestGap } = await platform.sessionSampling('agent-rec-1', 'accel_x');
    expect(count).toBeGreaterThan(50);
    // Sampled many times a second: no hole left by the cut.
    expect(largestGap).toBeLessThan(0.5);
  }, 120_000);

  it('goes on recording a session after the agent itself restarts', async () => {
    dashboard.send({
      type: 'start_session',
      source_id: sourceId,
      session_id: 'agent-rec-2',
      session_name: 'Restart test',
      metrics: [],
      interval_ms: 100,
    });
    await dashboard.next((f) => f.type === 'session_started' && f.session_id === 'agent-rec-2', 5000).catch(withAgentLog);
    const count = () => platform.count(`SELECT count(*) FROM telemetry WHERE session_id = 'agent-rec-2'`);
    await waitFor('points before the restart', async () => (await count()) > 10, 15_000);
    const agent = agents[agents.length - 1];
    const exited = new Promise((resolve) => agent.once('exit', resolve));
    agent.kill('SIGTERM');
    await exited;
    await dashboard.next((f) => f.type === 'source_status' && f.source_id === sourceId && f.status === 'offline', 10_000);
    const beforeRestart = await count();
    const restarted = startAgent(home, ['--no-sensors', '--simulate']);
    await dashboard.next((f) => f.type === 'source_status' && f.source_id === sourceId && f.status === 'online', 15_000);
    await waitFor('points recorded after the restart', async () => (await count()) > beforeRestart + 10, 15_000);
    expect(restarted.output.join('')).toMatch(/resuming recording of session agent-rec-2/);
    dashboard.send({ type: 'stop_session', source_id: sourceId, session_id: 'agent-rec-2' });
    await waitFor(
      'the session completed',
      async () => ((await (await platform.api('/api/sessions/agent-rec-2')).json()) as { status: string }).status === 'completed',
    );
  }, 60_000);
});

describe('plexus CLI messages', () => {
  it('explains a bad code, an unreachable server and a missing pairing, with non-zero exit codes', async () => {
    const home = newHome();
    const wrong = await plexus(home, ['pair', '--code', 'ZZZZZ9', '--endpoint', platform.gateway]);
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toMatch(/not found/);
    const unreachable = await plexus(home, ['pair', '--code', 'ABC234', '--endpoint', 'http://127.0.0.1:9']);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toMatch(/cannot reach/);
    const notPaired = await plexus(home, ['run']);
    expect(notPaired.code).toBe(2);
    expect(notPaired.stderr).toMatch(/not paired/);
    const help = await plexus(home, ['run', '--help']);
    expect(help.stdout).toMatch(/--simulate/);
    const code = await newCode();
    // Codes are stored as HMAC-SHA256 under the secret the pairing app keeps in `settings`.
    const {
      rows: [secret],
    } = await platform.db.query(`SELECT value FROM settings WHERE name = 'pairing_code_secret'`);
    await platform.db.query(`UPDATE pairing_codes SET expires_at = now() - interval '1 second' WHERE code_hash = $1`, [
      createHmac('sha256', secret.value).update(code).digest('hex'),
    ]);
    const expired = await plexus(home, ['pair', '--code', code, '--endpoint', platform.gateway]);
    expect(expired.code).toBe(4);
    expect(expired.stderr).toMatch(/expired/);
    const noSensor = await plexus(home, ['run', '--no-sensors', '--sensor', './no-such-sensor.js'], {
      PLEXUS_DEVICE_TOKEN: 'plxd_' + 'x'.repeat(40),
      PLEXUS_ENDPOINT: platform.gateway,
    });
    expect(noSensor.code).toBe(6);
    expect(noSensor.stderr).toMatch(/sensor not found/);
  });

  it('sends a value with plexus send and an API key', async () => {
    const home = newHome();
    const sent = await plexus(home, ['send', 'cli.temp', '21.5', '-t', 'room=lab'], {
      PLEXUS_API_KEY: platform.adminKey,
      PLEXUS_ENDPOINT: platform.gateway,
    });
    expect(sent).toMatchObject({ code: 0 });
    await platform.drained();
    const { rows } = await platform.db.query(`SELECT value_num, tags FROM telemetry WHERE metric = 'cli.temp'`);
    expect(rows).toEqual([{ value_num: 21.5, tags: { room: 'lab' } }]);
  });
});
