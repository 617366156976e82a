import { beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import { Module } from '@nestjs/common';
import { type InProcessApp, mediumScope, recorder, startInProcess } from '../../../../test/support/medium.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import type { CodesService as Codes } from '../../../pairing/src/codes/codes.service.js';
import type { KeysService as Keys } from '../../../pairing/src/keys/keys.service.js';
import type { ClientSocket } from '../sockets/client-socket.js';
import type { Authenticator as Auth } from '../sockets/authenticator.service.js';
import type { DeviceConnection } from './device-connection.js';
import type { DeviceHub as Hub } from './device-hub.service.js';

// Medium: realtime's authenticator and device hub on the real NATS, with the pairing app in this
// process answering as in production. The sockets are stand-ins that record what the hub sends
// and how it closes them; everything between instances and apps goes over NATS.
const scope = await mediumScope();
const { AppModule: PairingModule } = await import('../../../pairing/src/app.module.js');
const { CodesService } = await import('../../../pairing/src/codes/codes.service.js');
const { KeysService } = await import('../../../pairing/src/keys/keys.service.js');
const {
  BrokerConnection,
  BrokerModule,
  ConfigModule,
  ServicesClientModule,
  CLOSE_CODES,
  checkBrowserAuth,
  checkDeviceAuth,
  onlineSources,
} = await import('#common');
const { RealtimeConfig, readRealtimeConfig } = await import('../config.js');
const { Authenticator, AuthFailure } = await import('../sockets/authenticator.service.js');
const { DeviceHub } = await import('./device-hub.service.js');
const { PresenceLease } = await import('../presence/presence-lease.service.js');
const { BrowserHub } = await import('../browsers/browser-hub.service.js');
const { TokenBucket } = await import('../sockets/token-bucket.js');

/** Realtime's NATS-facing services without its HTTP/WebSocket server (which needs a listening app). */
@Module({
  imports: [ConfigModule.forApp(RealtimeConfig, () => readRealtimeConfig()), BrokerModule.forRoot('realtime'), ServicesClientModule],
  providers: [Authenticator, DeviceHub, PresenceLease, BrowserHub],
})
class RealtimeCore {}

let pairing: InProcessApp;
let realtime: InProcessApp;
let auth: Auth;
let hub: Hub;
let codes: Codes;
let keys: Keys;
let nc: NatsConnection;

beforeAll(async () => {
  pairing = await startInProcess(PairingModule, { answersNats: true });
  realtime = await startInProcess(RealtimeCore);
  auth = realtime.get(Authenticator);
  hub = realtime.get(DeviceHub);
  codes = pairing.get(CodesService);
  keys = pairing.get(KeysService);
  nc = await scope.nats();
});
scope.onTeardown(async () => {
  await realtime?.close();
  await pairing?.close();
});

class RecordingSocket {
  readonly id = `socket-${Math.random().toString(36).slice(2)}`;
  readonly sent: string[] = [];
  closed?: { code: number; reason: string };
  send(data: string): void {
    this.sent.push(data);
  }
  sendJson(message: object): void {
    this.send(JSON.stringify(message));
  }
  error(code: string, message: string): void {
    this.sendJson({ type: 'error', code, message });
  }
  close(code: number, reason: string): void {
    this.closed ??= { code, reason };
  }
}

function connection(orgId: string, sourceId: string, keyId?: string): { device: DeviceConnection; socket: RecordingSocket } {
  const socket = new RecordingSocket();
  const device: DeviceConnection = {
    socket: socket as unknown as ClientSocket,
    orgId,
    sourceId,
    platform: 'test',
    sensors: [],
    cameras: [],
    connectedAt: new Date().toISOString(),
    keyId,
    rate: new TokenBucket(100, 100),
    replaced: false,
    lastSeenPublishedAt: 0,
  };
  return { device, socket };
}

async function pairedToken(name: string): Promise<{ device_token: string; source_id: string }> {
  const { code } = await codes.create('default', name);
  return codes.complete({ code });
}

/** A first frame as the socket server takes it: the wire schema, then the authenticator. */
async function device(frame: Record<string, unknown>, pathOrg?: string) {
  const checked = checkDeviceAuth({ type: 'device_auth', ...frame });
  if (!checked.ok) throw new AuthFailure(`device_auth: ${checked.problem}`, 'BAD_REQUEST');
  return auth.device(checked.frame, pathOrg);
}

async function browser(frame: Record<string, unknown>, pathOrg?: string) {
  const checked = checkBrowserAuth({ type: 'browser_auth', ...frame });
  if (!checked.ok) throw new AuthFailure(`browser_auth: ${checked.problem}`, 'BAD_REQUEST');
  return auth.browser(checked.frame, pathOrg);
}

describe('Authenticator (realtime ⇄ pairing over real NATS)', () => {
  it('signs a device in by its token as the token’s own source, whatever source_id it claims', async () => {
    const paired = await pairedToken('sensor box');
    const identity = await device(
      { type: 'device_auth', device_token: paired.device_token, source_id: 'someone-else', platform: 'esp32' },
      undefined,
    );
    expect(identity).toMatchObject({ orgId: 'default', sourceId: paired.source_id, platform: 'esp32' });
    await expect(device({ device_token: paired.device_token }, 'other-org')).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('signs in a legacy device by a write key for an unpaired source, never as a paired one', async () => {
    const writer = await keys.createForOrg('default', 'legacy', ['write']);
    expect(await device({ api_key: writer.key, source_id: 'legacy-7' }, 'default')).toMatchObject({
      orgId: 'default',
      sourceId: 'legacy-7',
      keyId: writer.id,
    });
    const paired = await pairedToken('taken');
    await expect(device({ api_key: writer.key, source_id: paired.source_id })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const reader = await keys.createForOrg('default', 'reader', ['read']);
    await expect(device({ api_key: reader.key, source_id: 'legacy-8' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['no credential', { source_id: 'x' }, 'BAD_REQUEST'],
    ['an unknown device token', { device_token: 'plxd_nope' }, 'FORBIDDEN'],
    ['a token of 100 kB', { device_token: 'x'.repeat(100_000) }, 'BAD_REQUEST'],
    ['a token that is not text', { device_token: { $ne: null } }, 'BAD_REQUEST'],
    ['an API key without source_id', { api_key: 'plx_x' }, 'BAD_REQUEST'],
    ['an API key with a malformed source_id', { api_key: 'plx_x', source_id: '../etc' }, 'BAD_REQUEST'],
    ['an unknown API key', { api_key: 'plx_unknown', source_id: 'ok' }, 'FORBIDDEN'],
    ['sensors that are not a list', { device_token: 'plxd_x', sensors: 'many' }, 'BAD_REQUEST'],
  ])('refuses a device_auth with %s', async (_, frame, code) => {
    await expect(device(frame)).rejects.toMatchObject({ code });
  });

  it('lets a browser watch with a read, control or admin key of its org only', async () => {
    const reader = await keys.createForOrg('default', 'viewer', ['read']);
    expect(await browser({ api_key: reader.key }, 'default')).toMatchObject({ org_id: 'default', scopes: ['read'] });
    const writer = await keys.createForOrg('default', 'writer only', ['write']);
    await expect(browser({ api_key: writer.key })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(browser({ api_key: reader.key }, 'elsewhere')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(browser({})).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});

describe('DeviceHub (real NATS)', () => {
  it('delivers a command sent to the device’s subject and answers the sender', async () => {
    const { device, socket } = connection('default', 'hub-1');
    hub.register(device);
    // The hub's subscription is live once the server has it: one round trip on its connection.
    await realtime.get(BrokerConnection).nc.flush();
    const reply = await nc.request(`${scope.prefix}.rt.device.default.hub-1`, JSON.stringify({ type: 'start_stream' }), { timeout: 5000 });
    expect(reply.string()).toBe('ok');
    expect(socket.sent).toContain(JSON.stringify({ type: 'start_stream' }));
    hub.unregister(device);
    // The unsubscribe has reached the server once the hub's connection made a round trip.
    await realtime.get(BrokerConnection).nc.flush();
    await expect(nc.request(`${scope.prefix}.rt.device.default.hub-1`, '{}', { timeout: 5000 })).rejects.toThrow(/no responders/i);
  });

  it('announces a device online to its org’s browsers and the fleet, and offline when it goes', async () => {
    const statuses = await recorder(nc, `${scope.prefix}.rt.out.default.hub-2`);
    const seen = await recorder(nc, `${scope.prefix}.sources.seen`);
    const { device } = connection('default', 'hub-2', 'key-1');
    hub.register(device);
    expect(await statuses.next('online')).toEqual({ type: 'source_status', source_id: 'hub-2', status: 'online' });
    expect(await seen.next('seen')).toMatchObject({ org_id: 'default', source_id: 'hub-2', create: true });
    hub.unregister(device);
    expect(await statuses.next('offline')).toEqual({ type: 'source_status', source_id: 'hub-2', status: 'offline' });
  });

  it('closes a device’s socket when the same source connects on another instance', async () => {
    const { device, socket } = connection('default', 'hub-3');
    hub.register(device);
    nc.publish(`${scope.prefix}.rt.takeover.default.hub-3`, JSON.stringify({ instance_id: 'other', connection_id: 'elsewhere' }));
    await waitFor('the replaced socket to close', () => socket.closed);
    expect(socket.closed?.code).toBe(CLOSE_CODES.replaced);
  });

  it('closes sockets on revocation of their source, their API key, or their org; ignores malformed events', async () => {
    const bySource = connection('default', 'hub-4');
    const byKey = connection('default', 'hub-5', 'key-5');
    const byOrg = connection('acme', 'hub-6');
    const untouched = connection('default', 'hub-7');
    for (const { device } of [bySource, byKey, byOrg, untouched]) hub.register(device);
    for (const subject of ['sources.revoked', 'keys.revoked', 'orgs.disabled']) {
      for (const junk of ['not json', 'null', '{"org_id":1}', '[]']) nc.publish(`${scope.prefix}.${subject}`, junk);
    }
    nc.publish(`${scope.prefix}.sources.revoked`, JSON.stringify({ org_id: 'default', source_id: 'hub-4' }));
    nc.publish(`${scope.prefix}.keys.revoked`, JSON.stringify({ org_id: 'default', key_id: 'key-5' }));
    nc.publish(`${scope.prefix}.orgs.disabled`, JSON.stringify({ org_id: 'acme' }));
    for (const { socket } of [bySource, byKey, byOrg]) {
      await waitFor('the revoked socket to close', () => socket.closed);
      expect(socket.closed?.code).toBe(CLOSE_CODES.revoked);
    }
    // Presence over NATS: the untouched device is still held here.
    // Gathered as init and /api/sources gather it: the instance's notice, then its pieces.
    const sources = (await onlineSources(nc, 'default')).map((s) => s.source_id);
    expect(sources).toContain('hub-7');
    expect(sources).not.toContain('hub-4');
    expect(untouched.socket.closed).toBeUndefined();
  });
});
