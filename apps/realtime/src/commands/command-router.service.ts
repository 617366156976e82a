import { randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  BrokerConnection,
  checkDeviceCommand,
  type CommandStartedRequest,
  DEVICE_COMMANDS,
  type DeviceCommand,
  DomainError,
  hasScope,
  isPrintable,
  isSourceId,
  METRICS,
  quoteInput,
  REALTIME_LIMITS,
  type Scope,
  ServicesClient,
  SUBJECTS,
} from '#common';
import type { BrowserConnection } from '../browsers/browser-connection.js';

const COMMANDS = new Set<string>(DEVICE_COMMANDS);

/** The scope each dashboard → device message needs. */
const REQUIRED_SCOPE: Record<DeviceCommand, Scope> = {
  start_stream: 'control',
  stop_stream: 'control',
  start_session: 'control',
  stop_session: 'control',
  configure: 'control',
  execute: 'admin',
  cancel: 'admin',
  ping: 'read',
};

const FORWARD_TIMEOUT_MS = 2000;

/**
 * Dashboard → device: checks the sender's scope, does what must happen before the device
 * hears it (a session is created, an execute is written to the audit log), then hands the
 * message to whichever instance holds the device. No such instance: DEVICE_OFFLINE at once.
 */
@Injectable()
export class CommandRouter {
  constructor(
    private readonly broker: BrokerConnection,
    private readonly services: ServicesClient,
  ) {}

  isCommand(type: string): type is DeviceCommand {
    return COMMANDS.has(type);
  }

  async route(browser: BrowserConnection, message: Record<string, unknown> & { type: DeviceCommand }): Promise<void> {
    const sourceId = message.source_id;
    // Echoed back only when within bounds: an error reply never carries more than a few bytes of input.
    const reference = {
      ...(isSourceId(sourceId) ? { source_id: sourceId } : {}),
      ...(isPrintable(message.id, REALTIME_LIMITS.maxIdLength) ? { id: message.id } : {}),
    };
    const outcome = (result: string) => METRICS.realtimeCommands.inc({ type: message.type, outcome: result });
    // Checked before it enters a subject: a long id made nats-server drop realtime's connection.
    if (!isSourceId(sourceId)) {
      outcome('bad_request');
      const problem = sourceId === undefined ? 'needs "source_id" naming the device' : `has an invalid "source_id" ${quoteInput(sourceId)}`;
      browser.socket.error('BAD_REQUEST', `${message.type} ${problem}`, reference);
      return;
    }
    const problem = checkDeviceCommand(message.type, message);
    if (problem) {
      outcome('bad_request');
      browser.socket.error('BAD_REQUEST', `${message.type}: ${problem}`, reference);
      return;
    }
    const scope = REQUIRED_SCOPE[message.type];
    if (!hasScope(browser.principal.scopes, scope)) {
      outcome('forbidden');
      browser.socket.error('FORBIDDEN', `${message.type} needs an API key with the "${scope}" scope`, reference);
      return;
    }
    const orgId = browser.principal.org_id;
    try {
      if (message.type === 'start_session') {
        message.session_id = typeof message.session_id === 'string' && message.session_id ? message.session_id : newSessionId();
        await this.services.call(SUBJECTS.sessions.create, {
          org_id: orgId,
          session_id: message.session_id,
          name: typeof message.session_name === 'string' && message.session_name ? message.session_name : undefined,
          source_id: sourceId,
          status: 'active',
        });
      }
      if (message.type === 'execute') {
        message.id = typeof message.id === 'string' && message.id ? message.id : randomUUID();
        const audit: CommandStartedRequest = {
          org_id: orgId,
          key_id: browser.principal.key_id,
          source_id: sourceId,
          command_id: message.id as string,
          command: message.command as string,
        };
        // Written before the device hears it: no audit log, no command.
        await this.services.call(SUBJECTS.audit.commandStarted, audit);
      }
    } catch (error) {
      const text = (error instanceof DomainError ? error.message : String(error)).slice(0, 200);
      outcome('refused');
      browser.socket.error('BAD_REQUEST', `${message.type} refused: ${text}`, reference);
      return;
    }
    try {
      await this.broker.nc.request(SUBJECTS.realtime.toDevice(orgId, sourceId), JSON.stringify(message), { timeout: FORWARD_TIMEOUT_MS });
      outcome('delivered');
    } catch {
      outcome('device_offline');
      browser.socket.error('DEVICE_OFFLINE', `source ${JSON.stringify(sourceId)} is not connected`, {
        ...reference,
        ...(message.id === undefined ? {} : { id: message.id }),
      });
      if (message.type === 'start_session') {
        // Created for a device that never heard of it: mark it so rather than leave it "active".
        const update = { org_id: orgId, session_id: message.session_id, status: 'aborted' };
        await this.services.call(SUBJECTS.sessions.update, update).catch(() => undefined);
      }
    }
  }
}

function newSessionId(): string {
  return `session_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
}
