import { randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  BrokerConnection,
  checkDeviceCommand,
  type CommandStartedRequest,
  DEVICE_COMMANDS,
  type DeviceCommand,
  type DeviceCommandFrame,
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
import { ActiveRecordings } from '../recordings/active-recordings.service.js';
import type { UncheckedFrame } from '../sockets/frames.js';

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
    private readonly recordings: ActiveRecordings,
  ) {}

  isCommand(type: string): type is DeviceCommand {
    return COMMANDS.has(type);
  }

  /** For a message whose type isCommand(): the rest of it is checked here against the wire schema. */
  async route(browser: BrowserConnection, message: UncheckedFrame): Promise<void> {
    const sourceId = message.source_id;
    // Echoed back only when within bounds: an error reply never carries more than a few bytes of input.
    const reference = {
      ...(isSourceId(sourceId) ? { source_id: sourceId } : {}),
      ...(isPrintable(message.id, REALTIME_LIMITS.maxIdLength) ? { id: message.id } : {}),
    };
    const outcome = (result: string) => METRICS.realtimeCommands.inc({ type: message.type, outcome: result });
    const checked = checkDeviceCommand(message);
    if (!checked?.ok) {
      outcome('bad_request');
      // The source id first, whatever else is wrong: a long id made nats-server drop realtime's connection.
      let problem = `${message.type}: ${checked?.problem ?? 'is not a command'}`;
      if (sourceId === undefined) problem = `${message.type} needs "source_id" naming the device`;
      else if (!isSourceId(sourceId)) problem = `${message.type} has an invalid "source_id" ${quoteInput(sourceId)}`;
      browser.socket.error('BAD_REQUEST', problem, reference);
      return;
    }
    await this.forward(browser, checked.frame, reference, outcome);
  }

  private async forward(
    browser: BrowserConnection,
    message: DeviceCommandFrame,
    reference: { source_id?: string; id?: string },
    outcome: (result: string) => void,
  ): Promise<void> {
    const sourceId = message.source_id;
    const scope = REQUIRED_SCOPE[message.type];
    if (!hasScope(browser.principal.scopes, scope)) {
      outcome('forbidden');
      browser.socket.error('FORBIDDEN', `${message.type} needs an API key with the "${scope}" scope`, reference);
      return;
    }
    const orgId = browser.principal.org_id;
    try {
      if (message.type === 'start_session') {
        message.session_id ??= newSessionId();
        await this.services.call(SUBJECTS.sessions.create, {
          org_id: orgId,
          session_id: message.session_id,
          name: message.session_name ?? undefined,
          source_id: sourceId,
          status: 'active',
        });
        // Kept before the device hears of it, so a crash of the device's instance cannot lose it.
        await this.recordings.remember(orgId, { ...message, session_id: message.session_id });
      }
      if (message.type === 'stop_session') {
        // Whether or not the device hears it, it is not to be asked to record this session again.
        await this.recordings.forget(orgId, sourceId, message.session_id);
      }
      if (message.type === 'execute') {
        message.id ??= randomUUID();
        const audit: CommandStartedRequest = {
          org_id: orgId,
          key_id: browser.principal.key_id,
          source_id: sourceId,
          command_id: message.id,
          command: message.command,
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
        if (message.session_id !== undefined) await this.recordings.forget(orgId, sourceId, message.session_id);
      }
    }
  }
}

function newSessionId(): string {
  return `session_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
}
