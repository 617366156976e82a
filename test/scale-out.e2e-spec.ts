import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';
import { TestSocket } from './support/ws-client.js';

let platform: Platform;
const ports: Record<string, number> = {};

beforeAll(async () => {
  platform = await Platform.start();
  ports['gateway-b'] = await platform.startCopy('gateway', 'gateway-b');
  ports['ingest-b'] = await platform.startCopy('ingest', 'ingest-b');
  ports['realtime-b'] = await platform.startCopy('realtime', 'realtime-b');
}, 180_000);

afterAll(async () => {
  await platform?.stop();
});

async function pointsWritten(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^plexus_writer_points_written_total\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
}

describe('two gateways, two ingest apps and two realtime apps', () => {
  it('share the ingest work with no duplicate and no loss, and lose nothing when one of each gets SIGTERM under load', async () => {
    const gateways = [platform.gateway, `http://127.0.0.1:${ports['gateway-b']}`];
    const requests = 300;
    const perRequest = 50;
    let next = 0;
    let acknowledged = 0;
    const exits: Array<Promise<number | null>> = [];

    // Each request goes to the next gateway; one that fails (connection refused, reset, 503) is
    // sent again to the other, as a client behind a load balancer would.
    const send = async (n: number) => {
      const body = JSON.stringify({
        points: Array.from({ length: perRequest }, (_, i) => ({
          metric: 'scale',
          value: n * perRequest + i,
          timestamp: 1700000000 + n + i / 1000,
          source_id: 'scale-1',
        })),
      });
      for (let attempt = 0; attempt < 50; attempt++) {
        const gateway = gateways[(n + attempt) % gateways.length];
        const status = await fetch(`${gateway}/api/ingest`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': platform.adminKey },
          body,
        })
          .then((response) => response.status)
          .catch(() => 0);
        if (status === 200) {
          acknowledged += perRequest;
          return;
        }
        if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`request ${n} was never accepted`);
    };

    const client = async () => {
      while (next < requests) {
        const n = next++;
        if (n === 100) exits.push(platform.stopApp('gateway', 'SIGTERM'));
        if (n === 150) {
          // Before it goes: ingest-b has taken its share of the work.
          await waitFor('ingest-b to have written points', async () => (await pointsWritten(ports['ingest-b'])) > 0, 20_000);
          exits.push(platform.stopApp('ingest-b', 'SIGTERM'));
        }
        await send(n);
      }
    };

    const device = await TestSocket.open(`ws://127.0.0.1:${ports['realtime-b']}/ws`);
    device.send({ type: 'device_auth', api_key: platform.adminKey, source_id: 'scale-dev', platform: 'Linux', sensors: [] });
    await device.nextOfType('authenticated');

    await Promise.all([client(), client(), client(), client()]);
    exits.push(platform.stopApp('realtime-b', 'SIGTERM'));
    expect((await device.closed).code).toBe(1001);

    // Every stopped app shut down cleanly.
    expect(await Promise.all(exits)).toEqual([0, 0, 0]);
    expect(acknowledged).toBe(requests * perRequest);

    // Drained well within the redelivery time (30 s): the stopped ingest app acked what it had committed.
    await platform.drained(25_000);
    expect(await platform.count(`SELECT count(*) FROM telemetry WHERE source_id = 'scale-1'`)).toBe(acknowledged);
    expect(await platform.count(`SELECT count(DISTINCT value_num) FROM telemetry WHERE source_id = 'scale-1'`)).toBe(acknowledged);
    expect(await pointsWritten(platform.ports.ingest)).toBeGreaterThan(0);

    // The device reconnects to the remaining realtime instance.
    const again = await TestSocket.open(`ws://127.0.0.1:${platform.ports.realtime}/ws`);
    again.send({ type: 'device_auth', api_key: platform.adminKey, source_id: 'scale-dev', platform: 'Linux', sensors: [] });
    expect(await again.nextOfType('authenticated')).toMatchObject({ source_id: 'scale-dev' });
    again.close();
  }, 180_000);
});
