import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import {
  type AuthenticatedFrame,
  BrokerConnection,
  checkBrowserAuth,
  checkDeviceAuth,
  checkSubscribe,
  CLOSE_CODES,
  hasScope,
  type InitFrame,
  isOrgId,
  METRICS,
  onlineSources,
  quoteInput,
  scrapeGauge,
  type SubscribedFrame,
} from '#common';
import { type BrowserConnection } from '../browsers/browser-connection.js';
import { BrowserHub } from '../browsers/browser-hub.service.js';
import { CommandRouter } from '../commands/command-router.service.js';
import { RealtimeConfig } from '../config.js';
import type { DeviceConnection } from '../devices/device-connection.js';
import { DeviceHub } from '../devices/device-hub.service.js';
import { DeviceSession } from '../devices/device-session.service.js';
import { ActiveRecordings } from '../recordings/active-recordings.service.js';
import { AuthFailure, Authenticator } from './authenticator.service.js';
import { DisabledOrgs } from './disabled-orgs.service.js';
import { ClientSocket, sendQueueCloses, type SendQueueLimits } from './client-socket.js';
import { parseFrame, type UncheckedFrame } from './frames.js';
import { TokenBucket } from './token-bucket.js';
import { LoopLag } from './loop-lag.js';
import { guarded, reportUnexpected } from './unexpected.js';

const PATH = /^\/(?:party\/([^/?#]+)|ws)\/?(?:[?#].*)?$/;
/** A socket that exceeds its rate hears about it at most this often. */
const RATE_ERROR_EVERY_MS = 1000;

/**
 * The WebSocket endpoint on the realtime port: `/party/{org_id}` (the agent's room form) and
 * `/ws`. Plain `ws` on the HTTP server rather than Nest's gateway layer: the relay is the hot
 * path and Nest's adapter cost about a third of the relay's throughput when measured on a 2-core machine.
 */
@Injectable()
export class SocketServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SocketServer.name);
  private wss?: WebSocketServer;
  private heartbeat?: NodeJS.Timeout;
  private readonly sockets = new Set<ClientSocket>();
  /** Rate limits credit the time this process ran late: messages waited unread meanwhile. */
  private readonly loopLag = new LoopLag();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly authenticator: Authenticator,
    private readonly devices: DeviceHub,
    private readonly deviceSession: DeviceSession,
    private readonly browsers: BrowserHub,
    private readonly commands: CommandRouter,
    private readonly broker: BrokerConnection,
    private readonly disabledOrgs: DisabledOrgs,
    private readonly recordings: ActiveRecordings,
    private readonly config: RealtimeConfig,
  ) {}

  onApplicationBootstrap(): void {
    scrapeGauge('plexus_realtime_sockets', 'WebSockets held by this realtime instance', ['kind'], (gauge) => {
      gauge.set({ kind: 'device' }, this.devices.count);
      gauge.set({ kind: 'browser' }, this.browsers.count);
      gauge.set({ kind: 'all' }, this.sockets.size);
    });
    this.loopLag.start();
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.config.hardMaxFrameBytes });
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Node removes its own listeners from an upgraded socket: without one, a peer's reset would be fatal.
      socket.on('error', () => undefined);
      try {
        this.upgrade(request, socket, head);
      } catch (error) {
        reportUnexpected('websocket upgrade', error);
        refuseUpgrade(socket, 500, 'Internal Server Error');
      }
    });
    // Protocol pings find dead sockets: one that has not answered the previous ping is closed.
    this.heartbeat = setInterval(
      guarded('heartbeat', () => {
        for (const client of this.sockets) {
          if (!client.alive) {
            client.ws.terminate();
            continue;
          }
          client.alive = false;
          if (client.ws.readyState === WebSocket.OPEN) client.ws.ping();
        }
      }),
      this.config.pingIntervalMs,
    );
  }

  onApplicationShutdown(): void {
    clearInterval(this.heartbeat);
    this.loopLag.stop();
    for (const client of this.sockets) client.close(1001, 'server shutting down');
    this.wss?.close();
  }

  async stats(): Promise<{
    devices: number;
    browsers: number;
    sockets: number;
    dropped_telemetry: number;
    dropped_late_telemetry: number;
    refused_live_batches: number;
    send_queue_full_closes: number;
  }> {
    const dropped = (await METRICS.realtimeDropped.get()).values[0]?.value ?? 0;
    const late = (await METRICS.realtimeDroppedLate.get()).values.reduce((sum, value) => sum + value.value, 0);
    return {
      devices: this.devices.count,
      browsers: this.browsers.count,
      sockets: this.sockets.size,
      dropped_telemetry: dropped,
      dropped_late_telemetry: late,
      refused_live_batches: this.browsers.refusedBatches,
      send_queue_full_closes: sendQueueCloses.count,
    };
  }

  /** `/party/{org_id}` or `/ws`; anything else, or an org id that cannot be one, is refused before the handshake. */
  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const match = PATH.exec(request.url ?? '');
    if (!match) {
      refuseUpgrade(socket, 404, 'Not Found');
      return;
    }
    let pathOrg: string | undefined;
    if (match[1] !== undefined) {
      try {
        pathOrg = decodeURIComponent(match[1]);
      } catch {
        refuseUpgrade(socket, 400, 'Bad Request', 'the org id in the path is not valid percent-encoding');
        return;
      }
      if (!isOrgId(pathOrg)) {
        refuseUpgrade(socket, 400, 'Bad Request', 'the org id in the path must be 1 to 128 printable characters');
        return;
      }
    }
    this.wss?.handleUpgrade(
      request,
      socket,
      head,
      guarded('websocket accept', (ws: WebSocket) => this.accept(ws, pathOrg, socket)),
    );
  }

  private accept(ws: WebSocket, pathOrg: string | undefined, raw: Duplex): void {
    const limits: SendQueueLimits = {
      highWaterBytes: this.config.browserHighWaterBytes,
      maxQueueBytes: this.config.sendQueueBytes,
      maxDroppable: this.config.browserQueueMessages,
      stallMs: this.config.sendStallMs,
      telemetryMaxAgeMs: this.config.telemetryMaxAgeMs,
    };
    const client = new ClientSocket(ws, limits, raw);
    this.sockets.add(client);
    let device: DeviceConnection | undefined;
    let browser: BrowserConnection | undefined;
    let authenticating = false;
    let lastRateError = 0;
    const timer = setTimeout(
      guarded('authentication timeout', () => {
        client.error('BAD_REQUEST', `authenticate within ${this.config.authTimeoutMs / 1000} s`);
        client.close(CLOSE_CODES.authTimeout, 'authentication timeout');
      }),
      this.config.authTimeoutMs,
    );

    // Measured on arrival: when the frame's bytes were read, crediting how late the loop ran then.
    const rateLimited = (bucket: TokenBucket): boolean => {
      if (bucket.take(client.readAt, this.loopLag.lateBy(client.readAt))) return false;
      METRICS.realtimeRateLimited.inc({ kind: device ? 'device' : 'browser' });
      const now = Date.now();
      if (now - lastRateError > RATE_ERROR_EVERY_MS) {
        lastRateError = now;
        client.error('RATE_LIMITED', 'too many messages; slow down');
      }
      return true;
    };

    const authenticate = async (message: UncheckedFrame): Promise<void> => {
      authenticating = true;
      try {
        if (message.type === 'device_auth') {
          const checked = checkDeviceAuth(message);
          if (!checked.ok) throw new AuthFailure(`device_auth: ${checked.problem}`, 'BAD_REQUEST');
          const identity = await this.authenticator.device(checked.frame, pathOrg);
          if (!client.open) return;
          this.refuseJustDisabled(identity.orgId);
          device = {
            socket: client,
            ...identity,
            connectedAt: new Date().toISOString(),
            rate: new TokenBucket(this.config.deviceRatePerSecond, this.config.deviceBurst),
            replaced: false,
            lastSeenPublishedAt: 0,
          };
          this.devices.register(device);
          const authenticated: AuthenticatedFrame = { type: 'authenticated', source_id: device.sourceId };
          client.sendJson(authenticated);
          // A session it was recording when its last connection went (a crash of that instance) goes on.
          void this.recordings.resume(device);
        } else if (message.type === 'browser_auth') {
          const checked = checkBrowserAuth(message);
          if (!checked.ok) throw new AuthFailure(`browser_auth: ${checked.problem}`, 'BAD_REQUEST');
          const principal = await this.authenticator.browser(checked.frame, pathOrg);
          if (!client.open) return;
          this.refuseJustDisabled(principal.org_id);
          client.reportsDrops = true;
          browser = {
            socket: client,
            principal,
            watching: null,
            admin: hasScope(principal.scopes, 'admin'),
            rate: new TokenBucket(this.config.browserRatePerSecond, this.config.browserBurst),
          };
          // Listen before asking who is online, so no change between the two is missed, but hold
          // what arrives meanwhile: `init` is always the browser's first frame, the changes follow it.
          client.hold();
          this.browsers.add(browser);
          const online = await onlineSources(this.broker.nc, principal.org_id);
          const init: InitFrame = { type: 'init', org_id: principal.org_id, online_sources: online };
          client.release(JSON.stringify(init));
        } else {
          throw new AuthFailure(`the first frame must be "device_auth" or "browser_auth", not ${quoteInput(message.type)}`, 'BAD_REQUEST');
        }
        clearTimeout(timer);
      } catch (error) {
        clearTimeout(timer);
        let failure: AuthFailure;
        if (error instanceof AuthFailure) failure = error;
        else failure = new AuthFailure(`cannot authenticate now; error id ${reportUnexpected('authentication', error)}`, 'UNAVAILABLE');
        client.error(failure.code, failure.message);
        client.close(
          failure.unavailable ? 1013 : CLOSE_CODES.badCredentials,
          failure.unavailable ? 'try again later' : 'authentication failed',
        );
      } finally {
        authenticating = false;
      }
    };

    ws.on(
      'message',
      guarded('websocket message', (data: RawData, isBinary: boolean) => {
        const frame = parseFrame(data, isBinary, this.config.maxFrameBytes);
        if (!frame.ok) {
          client.error('BAD_REQUEST', frame.error);
          // An unauthenticated socket that sends garbage is not kept open.
          if (!device && !browser) client.close(CLOSE_CODES.badCredentials, 'authentication failed');
          return;
        }
        const { message, text } = frame;
        if (device) {
          if (rateLimited(device.rate)) return;
          const from = device;
          void this.deviceSession.handle(from, message, text, client.readAt).catch((error: unknown) => {
            from.socket.error('BAD_REQUEST', `${message.type} failed; error id ${reportUnexpected('device message', error)}`);
          });
        } else if (browser) {
          if (rateLimited(browser.rate)) return;
          this.onBrowserMessage(browser, message);
        } else if (!authenticating) {
          void authenticate(message);
        } else {
          client.error('BAD_REQUEST', 'still authenticating; wait for the answer');
        }
      }),
    );

    ws.on(
      'close',
      guarded('websocket close', () => {
        clearTimeout(timer);
        this.sockets.delete(client);
        if (device) this.devices.unregister(device);
        if (browser) this.browsers.remove(browser);
      }),
    );
    ws.on('error', (error) => this.logger.warn(`socket error: ${error.message}`));
  }

  /** A credential approved just before its org was disabled is refused, like one checked after. */
  private refuseJustDisabled(orgId: string): void {
    if (this.disabledOrgs.justDisabled(orgId)) throw new AuthFailure('this org is disabled', 'FORBIDDEN');
  }

  private onBrowserMessage(browser: BrowserConnection, message: UncheckedFrame): void {
    if (message.type === 'subscribe') {
      const checked = checkSubscribe(message);
      if (!checked.ok) {
        browser.socket.error('BAD_REQUEST', `subscribe: ${checked.problem}`);
        return;
      }
      const ids = checked.frame.source_ids;
      browser.watching = ids ? new Set(ids) : null;
      const subscribed: SubscribedFrame = { type: 'subscribed', source_ids: browser.watching ? [...browser.watching] : null };
      browser.socket.sendJson(subscribed);
      return;
    }
    if (message.type === 'ping' && message.source_id === undefined) {
      browser.socket.sendJson({ type: 'pong' });
      return;
    }
    if (this.commands.isCommand(message.type)) {
      void this.commands.route(browser, message).catch((error: unknown) => {
        browser.socket.error('BAD_REQUEST', `${message.type} failed; error id ${reportUnexpected('browser command', error)}`);
      });
      return;
    }
    browser.socket.error('BAD_REQUEST', `unknown message type ${quoteInput(message.type)}`);
  }
}

/** Answers an upgrade that will not become a WebSocket, then lets the socket go. */
function refuseUpgrade(socket: Duplex, status: number, statusText: string, reason = statusText): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${reason}\n`;
  socket.once('finish', () => socket.destroy());
  // A peer that does not read the answer does not keep the socket either.
  setTimeout(() => socket.destroy(), 2000).unref();
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
