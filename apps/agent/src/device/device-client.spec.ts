import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { type WebSocket, WebSocketServer } from 'ws';
import { waitFor } from '../../../../test/support/wait-for.js';
import { DeviceClient } from './device-client.js';

// Unit: the agent's device client against a WebSocket server in this process that plays the
// realtime app's part (authenticated, start_session sent again as after a crash of an instance).

interface Frame {
  type: string;
  session_id?: string;
  points?: Array<{ metric: string; value: number }>;
}

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp() {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const received: Frame[] = [];
  let socket: WebSocket | undefined;
  server.on('connection', (ws) => {
    socket = ws;
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      received.push(frame);
      if (frame.type === 'device_auth') ws.send(JSON.stringify({ type: 'authenticated', source_id: 'rig-1' }));
    });
  });
  const stateDir = mkdtempSync(join(tmpdir(), 'plexus-device-client-'));
  const log: string[] = [];
  const client = new DeviceClient({
    wsUrl: `ws://127.0.0.1:${(server.address() as { port: number }).port}`,
    sourceId: 'rig-1',
    apiKey: 'plx_test',
    platform: 'test',
    sensors: { describe: () => [], setSampleRate: () => false },
    allowExec: false,
    stateDir,
    log: (line) => log.push(line),
  });
  cleanups.push(async () => {
    await client.stop();
    await new Promise((resolve) => server.close(resolve));
    rmSync(stateDir, { recursive: true, force: true });
  });
  await client.start();
  await waitFor('the client to authenticate', () => client.isAuthenticated);
  const toDevice = (frame: object) => socket?.send(JSON.stringify(frame));
  return { client, received, toDevice, log };
}

/** Every recorded value, in the order the server got them. */
function recordedValues(received: Frame[], sessionId: string): number[] {
  return received.filter((f) => f.type === 'telemetry' && f.session_id === sessionId).flatMap((f) => (f.points ?? []).map((p) => p.value));
}

describe('DeviceClient and a repeated start_session', () => {
  it('goes on recording the same session untouched: one session_started, every reading sent once, in order', async () => {
    const { client, received, toDevice, log } = await setUp();
    const start = { type: 'start_session', source_id: 'rig-1', session_id: 'run-7', session_name: 'Run 7', metrics: [], interval_ms: 20 };
    toDevice(start);
    await waitFor('session_started', () => received.some((f) => f.type === 'session_started'));
    let next = 0;
    const feed = setInterval(() => client.onReadings([{ metric: 'counter', value: next++ }]), 2);
    cleanups.push(() => clearInterval(feed));
    await waitFor('recorded readings', () => recordedValues(received, 'run-7').length > 20);
    // As after a crash of the realtime instance: the same frame again, while readings keep coming.
    toDevice(start);
    const atRepeat = next;
    await waitFor('readings after the repeat', () => recordedValues(received, 'run-7').length > atRepeat + 20);
    clearInterval(feed);
    await waitFor('every reading sent', () => recordedValues(received, 'run-7').length >= next || undefined, 5000);
    expect(recordedValues(received, 'run-7')).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(received.filter((f) => f.type === 'session_started')).toHaveLength(1);
    expect(log).toContain('already recording session run-7');
  });

  it('switches to a different session when asked, as before', async () => {
    const { received, toDevice } = await setUp();
    toDevice({ type: 'start_session', source_id: 'rig-1', session_id: 'a', metrics: [], interval_ms: 20 });
    await waitFor('a started', () => received.some((f) => f.type === 'session_started' && f.session_id === 'a'));
    toDevice({ type: 'start_session', source_id: 'rig-1', session_id: 'b', metrics: [], interval_ms: 20 });
    await waitFor('b started', () => received.some((f) => f.type === 'session_started' && f.session_id === 'b'));
  });
});
