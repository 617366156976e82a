import { describe, expect, it } from '@jest/globals';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Module } from '@nestjs/common';
import { type InProcessApp, mediumScope, startInProcess } from '../../../../test/support/medium.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import type { BrowserConnection } from '../browsers/browser-connection.js';
import type { BrowserHub as Browsers } from '../browsers/browser-hub.service.js';
import type { DeviceConnection } from '../devices/device-connection.js';
import type { ClientSocket } from '../sockets/client-socket.js';
import type { PresenceLease as Lease } from './presence-lease.service.js';

// Medium: several realtime instances' presence leases in this process, on a NATS server of this
// file's own (so it can be restarted), with a short lease. An instance "dies" when its NATS
// connection is cut without any goodbye, as a kill -9 does.

const scope = await mediumScope({ PLEXUS_PRESENCE_LEASE_MS: '1500', PLEXUS_PRESENCE_RENEW_MS: '300' });
// Imported after mediumScope: it loads subjects.ts, which takes the prefix when it loads.
const { PrivateNatsServer } = await import('../../../../test/support/nats-server.js');
const nats = await PrivateNatsServer.start();
// Read by the apps' config when each instance starts.
process.env.NATS_URL = nats.url;
const { BrokerConnection, BrokerModule, ConfigModule, BUCKETS, kvKeyToken } = await import('#common');
const { RealtimeConfig, readRealtimeConfig } = await import('../config.js');
const { PresenceLease } = await import('./presence-lease.service.js');
const { BrowserHub } = await import('../browsers/browser-hub.service.js');
const { TokenBucket } = await import('../sockets/token-bucket.js');

@Module({
  imports: [ConfigModule.forApp(RealtimeConfig, () => readRealtimeConfig()), BrokerModule.forRoot('realtime')],
  providers: [PresenceLease, BrowserHub],
})
class PresenceCore {}

const instances: InProcessApp[] = [];
// The test's own connection to this file's NATS, through its restart.
const nc: NatsConnection = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
scope.onTeardown(async () => {
  for (const instance of instances) await instance.close().catch(() => undefined);
  await nc.close();
  await nats.destroy();
});

async function instance(): Promise<{ app: InProcessApp; lease: Lease; browsers: Browsers; id: string }> {
  const app = await startInProcess(PresenceCore);
  instances.push(app);
  return { app, lease: app.get(PresenceLease), browsers: app.get(BrowserHub), id: app.get(RealtimeConfig).instanceId };
}

class RecordingSocket {
  readonly id = `socket-${Math.random().toString(36).slice(2)}`;
  readonly sent: Array<Record<string, unknown>> = [];
  readonly open = true;
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  sendJson(message: object): void {
    this.send(JSON.stringify(message));
  }
  error(): void {}
  close(): void {}
}

function device(sourceId: string): DeviceConnection {
  return {
    socket: new RecordingSocket() as unknown as ClientSocket,
    orgId: 'default',
    sourceId,
    platform: 'test',
    sensors: [],
    cameras: [],
    connectedAt: new Date().toISOString(),
    rate: new TokenBucket(100, 100),
    replaced: false,
    lastSeenPublishedAt: 0,
  };
}

function browserOn(browsers: Browsers): RecordingSocket {
  const socket = new RecordingSocket();
  const browser: BrowserConnection = {
    socket: socket as unknown as ClientSocket,
    principal: { org_id: 'default', org_name: 'default', key_id: 'k', scopes: ['read'] },
    watching: null,
    admin: false,
    rate: new TokenBucket(100, 100),
  };
  browsers.add(browser);
  return socket;
}

function statuses(socket: RecordingSocket, sourceId: string): unknown[] {
  return socket.sent.filter((frame) => frame.type === 'source_status' && frame.source_id === sourceId).map((frame) => frame.status);
}

async function leaseOf(sourceId: string): Promise<{ instance_id: string } | undefined> {
  const kv = await new Kvm(nc).open(BUCKETS.presenceDevices);
  const entry = await kv.get(`default.${kvKeyToken(sourceId)}`).catch(() => null);
  return entry?.operation === 'PUT' ? entry.json<{ instance_id: string }>() : undefined;
}

/** Cut off from NATS with no goodbye: no module destroy, its renewals stop reaching anyone. */
async function kill(app: InProcessApp): Promise<void> {
  await app.get(BrokerConnection).nc.close();
}

describe('presence lease across instances (real NATS)', () => {
  it('tells every other instance’s browsers that a dead instance’s devices are offline, except one that moved', async () => {
    const a = await instance();
    const b = await instance();
    const c = await instance();
    const onB = browserOn(b.browsers);
    const onC = browserOn(c.browsers);
    const stays = device('lease-stays');
    const moves = device('lease-moves');
    a.lease.hold(stays);
    a.lease.hold(moves);
    await waitFor(
      'both leases written by A',
      async () => (await leaseOf('lease-moves'))?.instance_id === a.id && (await leaseOf('lease-stays')),
    );
    // The source connects again on B (a takeover): A lets its lease go, B's stays.
    const moved = device('lease-moves');
    b.lease.hold(moved);
    a.lease.release(moves);
    await waitFor('the moved lease written by B', async () => (await leaseOf('lease-moves'))?.instance_id === b.id);

    await kill(a.app);
    for (const socket of [onB, onC]) {
      await waitFor('offline for the device of the dead instance', () => statuses(socket, 'lease-stays').includes('offline'));
    }
    expect(await leaseOf('lease-stays')).toBeUndefined();
    // Judged in the same sweep as lease-stays: had it been judged dead, it would have been said by now.
    expect(statuses(onB, 'lease-moves')).not.toContain('offline');
    expect(statuses(onC, 'lease-moves')).not.toContain('offline');
    expect(statuses(onB, 'lease-stays')).toEqual(['offline']);
    expect((await leaseOf('lease-moves'))?.instance_id).toBe(b.id);
  });

  it('writes its leases again after NATS restarts and loses its memory buckets, and judges no one meanwhile', async () => {
    const d = await instance();
    const e = await instance();
    const onE = browserOn(e.browsers);
    d.lease.hold(device('lease-restart'));
    await waitFor('the lease written', async () => (await leaseOf('lease-restart'))?.instance_id === d.id);
    await nats.stop();
    await nats.resume();
    await waitFor('the lease written again', async () => (await leaseOf('lease-restart'))?.instance_id === d.id, 20_000);
    // Then the lease works as before: D dies, E's browser hears it.
    await kill(d.app);
    await waitFor('offline after the restart', () => statuses(onE, 'lease-restart').includes('offline'), 20_000);
    expect(statuses(onE, 'lease-restart')).toEqual(['offline']);
  });
});
