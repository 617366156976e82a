import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Platform } from './support/platform.js';
import { TestSocket } from './support/ws-client.js';

let platform: Platform;

beforeAll(async () => {
  platform = await Platform.start();
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

type App = 'gateway' | 'ingest' | 'realtime' | 'pairing';

async function scrape(app: App): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${platform.ports[app]}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/text\/plain/);
  return response.text();
}

/** The sum of a metric's samples whose labels include `labels`. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(\{[^}]*\})? ([-\d.e+]+|NaN)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const set = match[2] ?? '';
    if (Object.entries(labels).every(([key, wanted]) => set.includes(`${key}="${wanted}"`))) sum += Number(match[3]);
  }
  return sum;
}

describe('/metrics of every app', () => {
  it('shows the counters moving under load', async () => {
    const before = Object.fromEntries(
      await Promise.all((['gateway', 'ingest', 'realtime', 'pairing'] as App[]).map(async (app) => [app, await scrape(app)])),
    );
    for (const app of ['gateway', 'ingest', 'realtime', 'pairing'] as App[]) {
      expect(before[app]).toContain(`app="${app}"`);
      expect(before[app]).toContain('plexus_process_cpu_seconds_total');
    }

    for (let i = 0; i < 20; i++) {
      const points = Array.from({ length: 50 }, (_, j) => ({
        metric: 'load',
        value: i * 50 + j,
        timestamp: 1700000000 + i + j / 100,
        source_id: 'metrics-1',
      }));
      expect((await platform.ingest(points)).status).toBe(200);
    }
    expect((await platform.ingest([{ metric: 'bad', value: null, source_id: 'metrics-1' }])).status).toBe(400);
    await platform.ingest([{ metric: 'k', value: 1, source_id: 'x' }], { key: 'plx_' + 'Q'.repeat(40) });
    await platform.drained();

    const device = await TestSocket.open(`ws://127.0.0.1:${platform.ports.realtime}/ws`);
    device.send({ type: 'device_auth', api_key: platform.adminKey, source_id: 'metrics-dev', platform: 'Linux', sensors: [] });
    await device.nextOfType('authenticated');
    const browser = await TestSocket.open(`ws://127.0.0.1:${platform.ports.realtime}/ws`);
    browser.send({ type: 'browser_auth', api_key: platform.adminKey });
    await browser.nextOfType('init');
    for (let i = 0; i < 5; i++) device.send({ type: 'telemetry', points: [{ metric: 'm', value: i, timestamp: Date.now() }] });
    await browser.next((f) => f.type === 'telemetry' && f.points[0].value === 4);
    browser.send({ type: 'start_stream', id: 's', source_id: 'metrics-dev', metrics: [], interval_ms: 100 });
    await device.nextOfType('start_stream');
    browser.send({ type: 'start_stream', id: 's', source_id: 'nobody', metrics: [], interval_ms: 100 });
    await browser.nextOfType('error');

    const gateway = await scrape('gateway');
    expect(
      value(gateway, 'plexus_ingest_requests_total', { status: '200' }) -
        value(before.gateway, 'plexus_ingest_requests_total', { status: '200' }),
    ).toBe(20);
    expect(value(gateway, 'plexus_ingest_requests_total', { status: '400' })).toBeGreaterThanOrEqual(1);
    expect(value(gateway, 'plexus_ingest_requests_total', { status: '401' })).toBeGreaterThanOrEqual(1);
    expect(value(gateway, 'plexus_ingest_points_accepted_total') - value(before.gateway, 'plexus_ingest_points_accepted_total')).toBe(1000);
    expect(value(gateway, 'plexus_ingest_points_rejected_total')).toBeGreaterThanOrEqual(1);

    const ingest = await scrape('ingest');
    expect(value(ingest, 'plexus_writer_points_written_total') - value(before.ingest, 'plexus_writer_points_written_total')).toBe(1000);
    expect(value(ingest, 'plexus_writer_batch_messages_count')).toBeGreaterThan(value(before.ingest, 'plexus_writer_batch_messages_count'));
    expect(value(ingest, 'plexus_writer_write_seconds_count')).toBeGreaterThan(0);
    expect(ingest).toMatch(/plexus_jetstream_consumer_pending_messages\{state="pending",app="ingest"\} 0/);

    const realtime = await scrape('realtime');
    expect(value(realtime, 'plexus_realtime_sockets', { kind: 'device' })).toBe(1);
    expect(value(realtime, 'plexus_realtime_sockets', { kind: 'browser' })).toBe(1);
    expect(value(realtime, 'plexus_realtime_device_messages_total', { type: 'telemetry' })).toBe(5);
    expect(value(realtime, 'plexus_realtime_commands_total', { type: 'start_stream', outcome: 'delivered' })).toBe(1);
    expect(value(realtime, 'plexus_realtime_commands_total', { type: 'start_stream', outcome: 'device_offline' })).toBe(1);
    expect(realtime).toContain('plexus_realtime_dropped_telemetry_total');

    const pairing = await scrape('pairing');
    expect(value(pairing, 'plexus_key_verifications_total', { outcome: 'valid' })).toBeGreaterThan(
      value(before.pairing, 'plexus_key_verifications_total', { outcome: 'valid' }),
    );
    expect(value(pairing, 'plexus_key_verifications_total', { outcome: 'refused' })).toBeGreaterThanOrEqual(1);
    device.close();
    browser.close();
  }, 60_000);
});
