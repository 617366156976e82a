import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { kvKeyToken } from '../libs/common/src/subjects.js';
import { AgentProcess } from './support/agent-process.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';
import { type Frame, TestSocket } from './support/ws-client.js';

// Issue 15, item 5: a realtime instance killed with SIGKILL while it holds a recording device.
// Instance A is the platform's realtime app, B a second copy; browsers watch from B. The presence
// lease is the default one (6 s, renewed every 2 s): every wait below is a condition with a deadline.

let platform: Platform;
let portB: number;
let nc: NatsConnection;
const sockets: TestSocket[] = [];
const agents: AgentProcess[] = [];
const LEASE_DEADLINE_MS = 20_000;

beforeAll(async () => {
  platform = await Platform.start();
  portB = await platform.startCopy('realtime', 'realtime-b');
  nc = await connect({ servers: platform.env.NATS_URL as string });
}, 180_000);

afterAll(async () => {
  for (const socket of sockets) socket.close();
  for (const agent of agents) await agent.stop();
  await nc?.close();
  await platform?.stop();
});

const urlA = () => `ws://127.0.0.1:${platform.ports.realtime}/party/default`;
const urlB = () => `ws://127.0.0.1:${portB}/ws`;

async function open(url: string): Promise<TestSocket> {
  const socket = await TestSocket.open(url);
  sockets.push(socket);
  return socket;
}

/** A device as the Python agent 0.3 is: it records what start_session asks and resumes nothing on its own. */
async function connectDevice(token: string, sourceId: string, url: string): Promise<TestSocket> {
  const device = await open(url);
  device.send({ type: 'device_auth', device_token: token, source_id: sourceId, platform: 'Linux', sensors: [] });
  expect(await device.nextOfType('authenticated')).toEqual({ type: 'authenticated', source_id: sourceId });
  return device;
}

async function connectBrowser(url = urlB()): Promise<{ browser: TestSocket; init: Frame }> {
  const browser = await open(url);
  browser.send({ type: 'browser_auth', api_key: platform.adminKey });
  const init = await browser.nextOfType('init');
  return { browser, init };
}

/** A newly paired device connected at `url`, and a browser on B that has seen it online. */
async function pairedOnline(name: string, url: string) {
  const { device_token: token, source_id: sourceId } = await platform.pairDevice(name);
  const { browser } = await connectBrowser();
  const device = await connectDevice(token, sourceId, url);
  await browser.next(status(sourceId, 'online'));
  return { token, sourceId, browser, device };
}

function status(sourceId: string, value: 'online' | 'offline') {
  return (frame: Frame) => frame.type === 'source_status' && frame.source_id === sourceId && frame.status === value;
}

/** The last source_status the browser got for the source. */
function lastStatus(browser: TestSocket, sourceId: string): string | undefined {
  return browser.frames.filter((frame) => frame.type === 'source_status' && frame.source_id === sourceId).at(-1)?.status;
}

function recorded(sessionId: string): Promise<number> {
  return platform.count(`SELECT count(*) FROM telemetry WHERE session_id = $1`, [sessionId]);
}

async function sessionStatus(sessionId: string): Promise<string> {
  return ((await (await platform.api(`/api/sessions/${sessionId}`)).json()) as { status: string }).status;
}

async function restartA(): Promise<void> {
  if (!platform.alive('realtime')) await platform.startApp('realtime');
}

describe('a device recording on instance A when A is killed', () => {
  it('goes offline for browsers on B within the lease, and a device that does not resume is sent start_session again on B', async () => {
    const { token, sourceId, browser, device } = await pairedOnline('Python rig', urlA());

    const start = {
      type: 'start_session',
      source_id: sourceId,
      session_id: 'crash-py-1',
      session_name: 'Crash test',
      metrics: [`${sourceId}:temp`],
      interval_ms: 100,
    };
    browser.send(start);
    expect(await device.nextOfType('start_session')).toEqual(start);
    const send = (from: number, socket: TestSocket) =>
      socket.send({
        type: 'telemetry',
        session_id: 'crash-py-1',
        points: Array.from({ length: 10 }, (_, i) => ({
          metric: 'temp',
          value: from + i,
          timestamp: 1_764_000_000_000 + (from + i) * 100,
        })),
      });
    send(0, device);
    await waitFor('the first points recorded', async () => (await recorded('crash-py-1')) === 10);

    expect(await platform.stopApp('realtime', 'SIGKILL')).toBeNull();
    expect((await device.closed).code).toBe(1006);
    // No instance said goodbye for it: the lease of the dead instance runs out.
    await browser.next(status(sourceId, 'offline'), LEASE_DEADLINE_MS);
    const { init } = await connectBrowser();
    expect((init.online_sources as Array<{ source_id: string }>).map((s) => s.source_id)).not.toContain(sourceId);

    // The device reconnects, to the surviving instance, while the session is still active.
    expect(await sessionStatus('crash-py-1')).toBe('active');
    const again = await connectDevice(token, sourceId, urlB());
    expect(await again.nextOfType('start_session')).toEqual(start);
    send(10, again);
    await waitFor('the points after the crash recorded', async () => (await recorded('crash-py-1')) === 20);
    await browser.next(status(sourceId, 'online'));

    // A comes back: no late offline from A's old lease for the device now held by B.
    await restartA();
    const { init: later } = await connectBrowser(urlA());
    expect((later.online_sources as Array<{ source_id: string }>).map((s) => s.source_id)).toContain(sourceId);
    expect(lastStatus(browser, sourceId)).toBe('online');

    browser.send({ type: 'stop_session', source_id: sourceId, session_id: 'crash-py-1' });
    expect(await again.nextOfType('stop_session')).toMatchObject({ session_id: 'crash-py-1' });
    again.send({ type: 'session_stopped', session_id: 'crash-py-1' });
    await waitFor('the session completed', async () => (await sessionStatus('crash-py-1')) === 'completed');
    // Stopped: nothing is kept to start it again.
    const records = await new Kvm(nc).open(platform.buckets.recordings);
    await waitFor('the recording forgotten', async () => (await records.get(`default.${kvKeyToken(sourceId)}`))?.operation !== 'PUT');
  }, 120_000);

  it('is not sent start_session again for a session ended meanwhile through the API', async () => {
    const { token, sourceId, browser, device } = await pairedOnline('Ended rig', urlA());
    browser.send({ type: 'start_session', source_id: sourceId, session_id: 'crash-ended', metrics: [], interval_ms: 100 });
    await device.nextOfType('start_session');
    device.close();
    await device.closed;
    const ended = await platform.api('/api/sessions/crash-ended', { method: 'PATCH', body: JSON.stringify({ status: 'completed' }) });
    expect(ended.status).toBe(200);
    const again = await connectDevice(token, sourceId, urlB());
    // The entry goes once realtime has asked the ingest app and found the session ended; it sends
    // start_session only for an active one, so nothing was sent before that either.
    const records = await new Kvm(nc).open(platform.buckets.recordings);
    await waitFor('the ended recording forgotten', async () => (await records.get(`default.${kvKeyToken(sourceId)}`))?.operation !== 'PUT');
    expect(again.frames.some((frame) => frame.type === 'start_session')).toBe(false);
    again.close();
  }, 60_000);

  it('reconnecting while the ingest app is down, is sent start_session once the ingest app is back', async () => {
    await restartA();
    const { token, sourceId, browser, device } = await pairedOnline('Patient rig', urlA());
    const start = { type: 'start_session', source_id: sourceId, session_id: 'crash-ingest-down', metrics: [], interval_ms: 100 };
    browser.send(start);
    expect(await device.nextOfType('start_session')).toMatchObject(start);

    expect(await platform.stopApp('realtime', 'SIGKILL')).toBeNull();
    expect(await platform.stopApp('ingest')).toBe(0);
    const logged = platform.logs.length;
    const again = await connectDevice(token, sourceId, urlB());
    // Realtime could not ask whether the session is still active, and said it will ask again.
    await waitFor('realtime to say it will retry', () =>
      platform.logs.slice(logged).some((line) => line.includes(`will retry resuming the session of "${sourceId}"`)),
    );
    expect(again.frames.some((frame) => frame.type === 'start_session')).toBe(false);

    await platform.startApp('ingest');
    // Retries back off 1, 2, 4 … 30 s apart: the next one after the ingest app is back sends it.
    expect(await again.nextOfType('start_session', 40_000)).toMatchObject(start);
    expect(await sessionStatus('crash-ingest-down')).toBe('active');
    browser.send({ type: 'stop_session', source_id: sourceId, session_id: 'crash-ingest-down' });
    await again.nextOfType('stop_session');
    again.send({ type: 'session_stopped', session_id: 'crash-ingest-down' });
    await waitFor('the session completed', async () => (await sessionStatus('crash-ingest-down')) === 'completed');
    again.close();
  }, 120_000);
});

describe('our agent recording on instance A when A is killed', () => {
  it('loses no point, and takes the start_session sent again as the session it already records', async () => {
    await restartA();
    const agent = new AgentProcess();
    agents.push(agent);
    const made = await platform.api('/api/sources/pair', { method: 'POST', body: JSON.stringify({ name: 'Crash Pi' }) });
    await agent.pair(((await made.json()) as { code: string }).code, platform.gateway);
    const config = JSON.parse(readFileSync(join(agent.home, '.plexus', 'config.json'), 'utf8')) as { source_id: string; ws_url: string };
    expect(config.ws_url).toBe(`ws://127.0.0.1:${platform.ports.realtime}`);
    const sourceId = config.source_id;
    const { browser } = await connectBrowser();
    agent.start(['--no-sensors', '--simulate']);
    await browser.next(status(sourceId, 'online'), 20_000);

    browser.send({
      type: 'start_session',
      source_id: sourceId,
      session_id: 'crash-agent-1',
      session_name: 'Agent crash',
      metrics: [`${sourceId}:accel_x`],
      interval_ms: 100,
    });
    await browser.next((f) => f.type === 'session_started' && f.session_id === 'crash-agent-1', 10_000);
    await waitFor('points before the crash', async () => (await recorded('crash-agent-1')) > 20, 15_000);

    expect(await platform.stopApp('realtime', 'SIGKILL')).toBeNull();
    await browser.next(status(sourceId, 'offline'), LEASE_DEADLINE_MS);
    await restartA();
    await browser.next(status(sourceId, 'online'), 40_000);
    await waitFor(
      'the agent to be sent the session again',
      () => agent.output.join('').includes('already recording session crash-agent-1'),
      10_000,
      () => agent.output.join('').split('\n').slice(-10).join('\n'),
    );
    const afterReconnect = await recorded('crash-agent-1');
    await waitFor('points after the crash', async () => (await recorded('crash-agent-1')) > afterReconnect + 20, 15_000);

    browser.send({ type: 'stop_session', source_id: sourceId, session_id: 'crash-agent-1' });
    await waitFor('the session completed', async () => (await sessionStatus('crash-agent-1')) === 'completed');
    await platform.drained();
    const { count, largestGap } = await platform.sessionSampling('crash-agent-1', 'accel_x');
    expect(count).toBeGreaterThan(50);
    // Sampled many times a second: no hole where the instance died.
    expect(largestGap).toBeLessThan(0.5);
  }, 150_000);
});

describe('hostile writes on the presence and recordings buckets', () => {
  const junk = [
    'not json',
    '',
    'null',
    '[]',
    '{"instance_id":1}',
    '{"instance_id":"a.b","connection_id":"x"}',
    '\u0000',
    '\ud800',
    'x'.repeat(100_000),
  ];

  /** Publishes straight onto a bucket's subject, as any NATS client could, bypassing the KV client's checks. */
  async function raw(bucket: string, key: string, data: string, operation?: 'DEL' | 'PURGE'): Promise<void> {
    const h = headers();
    if (operation) h.set('KV-Operation', operation);
    await jetstream(nc).publish(`$KV.${bucket}.${key}`, data, { headers: h });
  }

  it('never crash realtime, never take a live device offline, and a deleted lease is written again by its holder', async () => {
    await restartA();
    const { token, sourceId, browser, device } = await pairedOnline('Hostile rig', urlB());
    const deviceKey = `default.${kvKeyToken(sourceId)}`;
    const { presenceDevices, presenceInstances, recordings } = platform.buckets;

    for (const data of junk) {
      for (const key of ['garbage', 'a.b.c', '=zz.x', `default.${kvKeyToken('someone-else')}`, 'default.=002e']) {
        await raw(presenceDevices, key, data);
      }
      await raw(presenceInstances, 'not-an-instance', data);
      await raw(presenceInstances, 'a'.repeat(100), data);
      await raw(recordings, deviceKey, data);
    }
    await raw(presenceDevices, 'unknown.key', '', 'DEL');
    await raw(presenceInstances, 'ffffffffffff', '', 'PURGE');
    // A recording entry naming another source, and one for a session that is not active.
    await raw(recordings, deviceKey, JSON.stringify({ type: 'start_session', source_id: 'someone-else', session_id: 'x' }));

    // The device's own lease overwritten with garbage, then deleted, behind its holder's back:
    // written again each time, and after the delete the device is said online again.
    const kv = await new Kvm(nc).open(presenceDevices);
    const lease = async () => {
      const entry = await kv.get(deviceKey);
      return entry?.operation === 'PUT' && (entry.json<{ instance_id?: unknown }>().instance_id as string | undefined);
    };
    await raw(presenceDevices, deviceKey, 'not json');
    await waitFor('the garbage lease replaced', async () => (await lease().catch(() => false)) || undefined);
    const before = await kv.get(deviceKey);
    expect(before?.operation).toBe('PUT');
    await kv.delete(deviceKey);
    await waitFor('the lease written again', async () => {
      const entry = await kv.get(deviceKey);
      return entry?.operation === 'PUT' && entry.revision > (before?.revision ?? 0);
    });
    await browser.next(status(sourceId, 'online'));

    // Reconnecting with a garbage recording entry: authenticated, no start_session, the entry gone.
    device.close();
    await device.closed;
    const again = await connectDevice(token, sourceId, urlA());
    const records = await new Kvm(nc).open(recordings);
    await waitFor('the garbage recording entry gone', async () => (await records.get(deviceKey))?.operation !== 'PUT');
    expect(again.frames.some((frame) => frame.type === 'start_session')).toBe(false);

    expect(platform.alive('realtime')).toBe(true);
    expect(platform.alive('realtime-b')).toBe(true);
    for (const port of [platform.ports.realtime, portB]) expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    const { init } = await connectBrowser();
    expect((init.online_sources as Array<{ source_id: string }>).map((s) => s.source_id)).toContain(sourceId);
    expect(lastStatus(browser, sourceId)).toBe('online');
    again.close();
  }, 90_000);
});
