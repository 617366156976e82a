import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';
import { type Frame, TestSocket } from './support/ws-client.js';

let platform: Platform;
let portB: number;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  platform = await Platform.start({
    env: {
      PLEXUS_WS_AUTH_TIMEOUT_MS: '1500',
      PLEXUS_WS_BROWSER_QUEUE: '50',
      // The slow-browser test holds telemetry queued for seconds to see the queue's own bound; the
      // latency ceiling (which would drop it for age first) is tested in realtime-limits.e2e-spec.ts.
      PLEXUS_WS_TELEMETRY_MAX_AGE_MS: '600000',
    },
  });
  portB = await platform.startCopy('realtime', 'realtime-b');
}, 120_000);

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await platform?.stop();
});

const urlA = (path = '/party/default') => `ws://127.0.0.1:${platform.ports.realtime}${path}`;
const urlB = (path = '/ws') => `ws://127.0.0.1:${portB}${path}`;

async function open(url: string): Promise<TestSocket> {
  const socket = await TestSocket.open(url);
  sockets.push(socket);
  return socket;
}

/** The Python agent's own device_auth frame. */
function deviceAuth(token: string, sourceId: string) {
  return {
    type: 'device_auth',
    device_token: token,
    source_id: sourceId,
    platform: 'Linux',
    sensors: [
      {
        name: 'MPU6050',
        description: '6-axis IMU',
        metrics: ['accel_x', 'accel_y', 'accel_z', 'gyro_x', 'gyro_y', 'gyro_z'],
        sample_rate: 100,
        prefix: '',
        available: true,
      },
    ],
  };
}

async function connectDevice(token: string, sourceId: string, url = urlA()): Promise<TestSocket> {
  const device = await open(url);
  device.send(deviceAuth(token, sourceId));
  expect(await device.nextOfType('authenticated')).toEqual({ type: 'authenticated', source_id: sourceId });
  return device;
}

async function connectBrowser(key: string, url = urlB()): Promise<{ browser: TestSocket; init: Record<string, any> }> {
  const browser = await open(url);
  browser.send({ type: 'browser_auth', api_key: key });
  const init = await browser.nextOfType('init');
  return { browser, init };
}

// Every frame a device sends or expects here is the Python plexus-agent 0.3.x's own, including
// start_stream metrics written "source_id:metric" and stop_stream with id "*".
describe('a device on instance A and a browser on instance B', () => {
  let device: TestSocket;
  let browser: TestSocket;
  let sourceId: string;
  let token: string;

  beforeAll(async () => {
    ({ device_token: token, source_id: sourceId } = await platform.pairDevice('Arm'));
    device = await connectDevice(token, sourceId);
    const connected = await connectBrowser(platform.adminKey);
    browser = connected.browser;
    expect(connected.init).toMatchObject({ type: 'init', org_id: 'default' });
    expect(connected.init.online_sources).toContainEqual(
      expect.objectContaining({
        source_id: sourceId,
        platform: 'Linux',
        sensors: [expect.objectContaining({ name: 'MPU6050', sample_rate: 100 })],
        connected_at: expect.any(String),
      }),
    );
  });

  it('carries every dashboard → device message through NATS to the device', async () => {
    const commands = [
      { type: 'start_stream', id: 'st-1', source_id: sourceId, metrics: [`${sourceId}:accel_x`, 'accel_y'], interval_ms: 100 },
      { type: 'stop_stream', id: '*', source_id: sourceId },
      { type: 'start_session', source_id: sourceId, session_id: 'sess-route', session_name: 'Routing', metrics: [], interval_ms: 100 },
      { type: 'stop_session', source_id: sourceId, session_id: 'sess-route' },
      { type: 'configure', source_id: sourceId, sensor: 'MPU6050', config: { sample_rate: 50 } },
      { type: 'execute', source_id: sourceId, id: 'cmd-1', command: 'uname -a' },
      { type: 'cancel', source_id: sourceId, id: 'cmd-1' },
      { type: 'ping', source_id: sourceId },
    ];
    for (const command of commands) {
      browser.send(command);
      expect(await device.nextOfType(command.type)).toEqual(command);
    }
  });

  it('carries every device → dashboard message to the browser with source_id added', async () => {
    const events = [
      { type: 'telemetry', points: [{ metric: 'accel_x', value: 0.12, timestamp: 1699900000123 }] },
      { type: 'session_started', session_id: 'sess-route', session_name: 'Routing' },
      { type: 'session_stopped', session_id: 'sess-route' },
      { type: 'output', id: 'cmd-1', event: 'start', command: 'uname -a' },
      { type: 'output', id: 'cmd-1', event: 'data', data: 'Linux raspberrypi' },
      { type: 'output', id: 'cmd-1', event: 'exit', code: 0 },
      { type: 'pong' },
      { type: 'error', message: 'sensor MPU6050 not found' },
    ];
    for (const event of events) {
      device.send(event);
      expect(await browser.nextOfType(event.type)).toEqual({ ...event, source_id: sourceId });
    }
  });

  it('does not let a device speak for another source', async () => {
    device.send({ type: 'pong', source_id: 'someone-else' });
    expect(await browser.nextOfType('pong')).toEqual({ type: 'pong', source_id: sourceId });
  });

  it('writes every execute to the audit log with its exit code', async () => {
    const audit = await waitFor('the audited command with its exit code', async () => {
      const { commands } = (await (await platform.api('/api/audit/commands')).json()) as { commands: Array<Record<string, unknown>> };
      return commands.find((c) => c.command_id === 'cmd-1' && c.exit_code === 0);
    });
    expect(audit).toMatchObject({
      source_id: sourceId,
      command: 'uname -a',
      key_id: expect.any(String),
      started_at: expect.any(String),
      finished_at: expect.any(String),
    });
    expect((await platform.api('/api/audit/commands', { key: await platform.createKey(['read', 'control']) })).status).toBe(403);
  });

  it('answers a browser ping itself, and DEVICE_OFFLINE at once for an absent source', async () => {
    browser.send({ type: 'ping' });
    expect(await browser.nextOfType('pong')).toEqual({ type: 'pong' });
    const started = Date.now();
    browser.send({ type: 'start_stream', id: 'x', source_id: 'nobody-here', metrics: [], interval_ms: 100 });
    expect(await browser.nextOfType('error')).toMatchObject({ code: 'DEVICE_OFFLINE', source_id: 'nobody-here', id: 'x' });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('lets a read key watch but not control or execute', async () => {
    const { browser: reader } = await connectBrowser(await platform.createKey(['read']), urlA('/ws'));
    for (const type of ['execute', 'start_stream', 'configure']) {
      reader.send({ type, source_id: sourceId, id: `r-${type}`, command: 'id', metrics: [], sensor: 'x', config: {} });
      expect(await reader.nextOfType('error')).toMatchObject({ code: 'FORBIDDEN', source_id: sourceId });
    }
    const controller = await connectBrowser(await platform.createKey(['read', 'control']), urlA('/ws'));
    controller.browser.send({ type: 'execute', source_id: sourceId, id: 'c-1', command: 'id' });
    expect(await controller.browser.nextOfType('error')).toMatchObject({ code: 'FORBIDDEN' });
    device.send({ type: 'telemetry', points: [{ metric: 'seen-by-reader', value: 1, timestamp: Date.now() }] });
    expect(await reader.next((f) => f.type === 'telemetry' && f.points[0].metric === 'seen-by-reader')).toMatchObject({
      source_id: sourceId,
    });
  });

  it('shows nothing of org A to a key of another org, and lets it command nothing', async () => {
    const other = await platform.createKey(['admin'], 'org-other');
    const { browser: outsider, init } = await connectBrowser(other, urlA('/ws'));
    expect(init).toMatchObject({ org_id: 'org-other', online_sources: [] });
    outsider.send({ type: 'execute', source_id: sourceId, id: 'evil', command: 'rm -rf /' });
    expect(await outsider.nextOfType('error')).toMatchObject({ code: 'DEVICE_OFFLINE' });
    device.send({ type: 'telemetry', points: [{ metric: 'private', value: 1, timestamp: Date.now() }] });
    await browser.next((f) => f.type === 'telemetry' && f.points[0].metric === 'private');
    expect(outsider.frames.some((f) => f.type === 'telemetry' || f.type === 'source_status')).toBe(false);
    // And the path's org must be the credential's.
    const wrongRoom = await open(urlA('/party/default'));
    wrongRoom.send({ type: 'browser_auth', api_key: other });
    expect((await wrongRoom.closed).code).toBe(4001);
  });

  it('survives bad frames and keeps serving', async () => {
    const rude = await open(urlA('/ws'));
    rude.send({ type: 'browser_auth', api_key: platform.adminKey });
    await rude.nextOfType('init');
    rude.send('this is not json');
    expect(await rude.nextOfType('error')).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/JSON/) });
    rude.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await rude.nextOfType('error')).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/binary/) });
    rude.send({ type: 'teleport' });
    expect(await rude.nextOfType('error')).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/unknown message type/) });
    rude.send({ type: 'ping', padding: 'x'.repeat(1024 * 1024 + 10) });
    expect(await rude.nextOfType('error')).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/larger than/) });
    device.send({ type: 'not-a-thing' });
    expect(await device.nextOfType('error')).toMatchObject({ code: 'BAD_REQUEST' });
    rude.send({ type: 'ping' });
    expect(await rude.nextOfType('pong')).toEqual({ type: 'pong' });
    browser.send({ type: 'ping', source_id: sourceId });
    expect(await device.nextOfType('ping')).toEqual({ type: 'ping', source_id: sourceId });
  });
});

describe('authentication', () => {
  it('closes with 4008 when no credential arrives in time, and 4001 for a bad one', async () => {
    const silent = await open(urlA('/ws'));
    expect(await silent.closed).toMatchObject({ code: 4008 });
    expect(silent.frames[0]).toMatchObject({ type: 'error', message: expect.stringMatching(/authenticate/) });
    const liar = await open(urlA('/ws'));
    liar.send({ type: 'device_auth', device_token: 'plxd_' + 'x'.repeat(40), source_id: 'x' });
    expect((await liar.closed).code).toBe(4001);
    const stranger = await open(urlB('/ws'));
    stranger.send({ type: 'telemetry', points: [] });
    expect((await stranger.closed).code).toBe(4001);
  });

  it('accepts a legacy API key for a device, with the source it names', async () => {
    const device = await open(urlA('/party/default'));
    device.send({ type: 'device_auth', api_key: platform.adminKey, source_id: 'legacy-1', platform: 'Linux', sensors: [] });
    expect(await device.nextOfType('authenticated')).toEqual({ type: 'authenticated', source_id: 'legacy-1' });
    await waitFor('the legacy device listed online', async () => {
      const { sources } = (await (await platform.api('/api/sources')).json()) as { sources: Array<{ source_id: string; online: boolean }> };
      return sources.find((s) => s.source_id === 'legacy-1' && s.online);
    });
    device.close();
  });
});

describe('presence', () => {
  it("sends a browser its init first, even while the org's devices are talking", async () => {
    const { device_token: token, source_id: sourceId } = await platform.pairDevice('Chatty');
    const device = await connectDevice(token, sourceId, urlA());
    let n = 0;
    const talking = setInterval(
      () => device.send({ type: 'telemetry', points: [{ metric: 'chatter', value: n++, timestamp: Date.now() }] }),
      5,
    );
    try {
      for (let i = 0; i < 3; i++) {
        const browser = await open(urlB('/ws'));
        browser.send({ type: 'browser_auth', api_key: platform.adminKey });
        // Telemetry held while the instance asked who is online comes after init, not before it.
        const afterInit = await browser.next((f) => f.type === 'telemetry' && f.source_id === sourceId);
        expect(browser.frames[0]).toMatchObject({
          type: 'init',
          online_sources: expect.arrayContaining([expect.objectContaining({ source_id: sourceId })]),
        });
        expect(browser.frames.indexOf(afterInit)).toBeGreaterThan(0);
        browser.close();
      }
    } finally {
      clearInterval(talking);
      device.close();
    }
  });

  it('tells browsers on every instance when a source comes and goes, and a reconnect elsewhere takes over', async () => {
    const { device_token: token, source_id: sourceId } = await platform.pairDevice('Roamer');
    const { browser: onA } = await connectBrowser(platform.adminKey, urlA('/ws'));
    const { browser: onB } = await connectBrowser(platform.adminKey, urlB('/ws'));
    const first = await connectDevice(token, sourceId, urlA());
    for (const browser of [onA, onB]) {
      expect(await browser.next((f) => f.type === 'source_status' && f.source_id === sourceId)).toEqual({
        type: 'source_status',
        source_id: sourceId,
        status: 'online',
      });
    }
    const second = await connectDevice(token, sourceId, urlB(`/party/default`));
    expect((await first.closed).code).toBe(4009);
    second.send({ type: 'pong' });
    expect(await onA.next((f) => f.type === 'pong' && f.source_id === sourceId)).toBeDefined();
    onA.send({ type: 'ping', source_id: sourceId });
    expect(await second.nextOfType('ping')).toMatchObject({ source_id: sourceId });
    second.close();
    for (const browser of [onA, onB]) {
      expect(await browser.next((f) => f.type === 'source_status' && f.source_id === sourceId && f.status === 'offline')).toBeDefined();
    }
    const listed = (await (await platform.api('/api/sources')).json()) as {
      sources: Array<{ source_id: string; online: boolean; last_seen: string; sensors: unknown[] }>;
    };
    const roamer = listed.sources.find((s) => s.source_id === sourceId);
    expect(roamer).toMatchObject({ online: false, sensors: [expect.objectContaining({ name: 'MPU6050' })] });
    expect(Date.parse(roamer!.last_seen)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('disconnects a device within a second of its source being deleted', async () => {
    const { device_token: token, source_id: sourceId } = await platform.pairDevice('Doomed');
    const device = await connectDevice(token, sourceId, urlB());
    const started = Date.now();
    expect((await platform.api(`/api/sources/${sourceId}`, { method: 'DELETE' })).status).toBe(200);
    expect((await device.closed).code).toBe(4010);
    expect(Date.now() - started).toBeLessThan(1000);
    const again = await open(urlA());
    again.send(deviceAuth(token, sourceId));
    expect((await again.closed).code).toBe(4001);
  });
});

describe('key revocation', () => {
  it('closes browsers using an API key within a second of DELETE /api/keys/{id}, on every instance', async () => {
    const created = (await (
      await platform.api('/api/keys', { method: 'POST', body: JSON.stringify({ name: 'watcher', scopes: ['read'] }) })
    ).json()) as { id: string; key: string };
    const { browser: onA } = await connectBrowser(created.key, urlA('/ws'));
    const { browser: onB } = await connectBrowser(created.key, urlB('/ws'));
    const started = Date.now();
    expect((await platform.api(`/api/keys/${created.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await onA.closed).code).toBe(4010);
    expect((await onB.closed).code).toBe(4010);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('recording', () => {
  it('records a session started from the dashboard: its telemetry is queryable and exported complete once it ends', async () => {
    const { device_token: token, source_id: sourceId } = await platform.pairDevice('Recorder');
    const device = await connectDevice(token, sourceId, urlB());
    const { browser } = await connectBrowser(platform.adminKey, urlA('/ws'));
    browser.send({
      type: 'start_session',
      source_id: sourceId,
      session_id: 'rec-ws-1',
      session_name: 'Motor Test',
      metrics: [],
      interval_ms: 100,
    });
    const start = await device.nextOfType('start_session');
    expect(start.session_id).toBe('rec-ws-1');
    const detail = await (await platform.api('/api/sessions/rec-ws-1')).json();
    expect(detail).toMatchObject({ status: 'active', name: 'Motor Test', source_id: sourceId });

    device.send({ type: 'session_started', session_id: 'rec-ws-1', session_name: 'Motor Test' });
    const t0 = 1700000000000;
    for (let batch = 0; batch < 10; batch++) {
      const points = Array.from({ length: 10 }, (_, i) => ({
        metric: 'accel_x',
        value: batch * 10 + i,
        timestamp: t0 + (batch * 10 + i) * 10,
        tags: { session_id: 'rec-ws-1' },
      }));
      device.send({ type: 'telemetry', session_id: 'rec-ws-1', points });
    }
    device.send({ type: 'telemetry', points: [{ metric: 'accel_x', value: -1, timestamp: t0 + 5 }] });
    device.send({ type: 'session_stopped', session_id: 'rec-ws-1' });
    await waitFor(
      'the session to complete',
      async () => ((await (await platform.api('/api/sessions/rec-ws-1')).json()) as { status: string }).status === 'completed',
    );
    await platform.drained();

    const query = (await (await platform.api(`/api/query?source_id=${sourceId}&metric=accel_x&limit=1000`)).json()) as {
      points: Array<{ value: number; session_id?: string }>;
    };
    expect(query.points.map((p) => p.value)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(query.points.every((p) => p.session_id === 'rec-ws-1')).toBe(true);
    const csv = await (await platform.api('/api/sessions/rec-ws-1/export?format=csv')).text();
    expect(csv.trim().split('\n')).toHaveLength(101);
    const after = (await (await platform.api('/api/sessions/rec-ws-1')).json()) as { point_count: number; metrics: string[] };
    expect(after).toMatchObject({ point_count: 100, metrics: ['accel_x'] });
  });

  it('rejects recorded telemetry with a bad point and tells the device', async () => {
    const { device_token: token, source_id: sourceId } = await platform.pairDevice('Sloppy');
    const device = await connectDevice(token, sourceId);
    device.send({ type: 'telemetry', session_id: 'sloppy-1', points: [{ metric: '', value: 1, timestamp: Date.now() }] });
    expect(await device.nextOfType('error')).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/metric/) });
  });
});

describe('protection', () => {
  it('drops live telemetry oldest-first for a browser that does not read, never control or output, and stalls no one else', async () => {
    const { device_token: token, source_id: sourceId } = await platform.pairDevice('Firehose');
    const device = await connectDevice(token, sourceId, urlA());
    const { browser: slow } = await connectBrowser(platform.adminKey, urlB('/ws'));
    const { browser: fast } = await connectBrowser(platform.adminKey, urlB('/ws'));
    slow.send({ type: 'subscribe', source_ids: [sourceId] });
    fast.send({ type: 'subscribe', source_ids: [sourceId] });
    await slow.nextOfType('subscribed');
    await fast.nextOfType('subscribed');
    // The slow browser stops reading from its socket.
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const big = 'x'.repeat(4000);
    const total = 1500;
    let last: Frame | undefined;
    for (let i = 0; i < total; i++) {
      device.send({ type: 'telemetry', points: [{ metric: 'n', value: i, timestamp: Date.now(), tags: { pad: big } }] });
      if (i === 700) device.send({ type: 'output', id: 'keep-me', event: 'data', data: 'must arrive' });
      // In chunks the reading browser keeps up with (one burst of all 1,500 could reach instance B
      // in one turn, which queues for both browsers alike): the stuck one must not hold it back.
      if (i % 100 === 99 || i === total - 1) last = await fast.next((f) => f.type === 'telemetry' && f.points[0].value === i, 20_000);
    }
    expect(last?.source_id).toBe(sourceId);
    // The reading browser got the newest message while the other one was stuck.
    const fastCount = fast.frames.filter((f) => f.type === 'telemetry').length;
    device.send({ type: 'pong' });
    expect(await device.nextOfType('error', 200).catch(() => undefined)).toBeUndefined();
    const stats = await waitFor('drops to be counted', async () => {
      const body = (await (await fetch(`http://127.0.0.1:${portB}/stats`)).json()) as { dropped_telemetry: number };
      return body.dropped_telemetry > 0 ? body : undefined;
    });
    expect(stats.dropped_telemetry).toBeGreaterThan(0);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await slow.next((f) => f.type === 'output' && f.id === 'keep-me', 20_000)).toMatchObject({ data: 'must arrive' });
    // Oldest-first: the newest telemetry is what survives.
    await slow.next((f) => f.type === 'telemetry' && f.points[0].value === total - 1, 20_000);
    const seen = slow.frames.filter((f) => f.type === 'telemetry').map((f) => f.points[0].value as number);
    expect(seen.length).toBeLessThan(total);
    expect(fastCount).toBeGreaterThan(seen.length);
    expect(seen[seen.length - 1]).toBe(total - 1);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  }, 60_000);

  it('answers a browser that sends too fast with RATE_LIMITED', async () => {
    const { browser } = await connectBrowser(platform.adminKey, urlA('/ws'));
    for (let i = 0; i < 300; i++) browser.send({ type: 'ping' });
    expect(await browser.next((f) => f.type === 'error' && f.code === 'RATE_LIMITED')).toMatchObject({ message: expect.any(String) });
  });

  it('finds a dead socket by protocol pings and reports its source offline', async () => {
    // An instance that pings every half second (the default is 20 s).
    const pinging = await platform.startCopy('realtime', 'realtime-pinging', { PLEXUS_WS_PING_INTERVAL_MS: '500' });
    const { device_token: token, source_id: sourceId } = await platform.pairDevice('Ghost');
    const { browser } = await connectBrowser(platform.adminKey, urlB('/ws'));
    const device = await connectDevice(token, sourceId, `ws://127.0.0.1:${pinging}/party/default`);
    await browser.next((f) => f.type === 'source_status' && f.source_id === sourceId && f.status === 'online');
    // The device's network goes silent: it neither reads nor answers pings.
    (device.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    expect(
      await browser.next((f) => f.type === 'source_status' && f.source_id === sourceId && f.status === 'offline', 10_000),
    ).toBeDefined();
  });
});
