import { Injectable } from '@nestjs/common';
import {
  BrokerConnection,
  checkDeviceEvent,
  type CommandFinishedEvent,
  DEVICE_EVENTS,
  type DeviceEvent,
  quoteInput,
  SUBJECTS,
} from '#common';
import { withSourceId } from '../sockets/frames.js';
import type { DeviceConnection } from './device-connection.js';
import { DeviceHub } from './device-hub.service.js';
import { Recorder } from './recorder.service.js';

const EVENTS = new Set<string>(DEVICE_EVENTS);

/** What a connected device may say, and where each message goes. */
@Injectable()
export class DeviceSession {
  constructor(
    private readonly hub: DeviceHub,
    private readonly recorder: Recorder,
    private readonly broker: BrokerConnection,
  ) {}

  async handle(device: DeviceConnection, message: Record<string, unknown> & { type: string }, text: string): Promise<void> {
    if (!EVENTS.has(message.type)) {
      device.socket.error('BAD_REQUEST', `unknown message type ${quoteInput(message.type)}`);
      return;
    }
    // Checked before anything is relayed, recorded or asked of another app.
    const problem = checkDeviceEvent(message.type as DeviceEvent, message);
    if (problem) {
      device.socket.error('BAD_REQUEST', `${message.type}: ${problem}`);
      return;
    }
    this.hub.relay(device, message.type, withSourceId(text, message, device.sourceId));
    switch (message.type as DeviceEvent) {
      case 'telemetry': {
        const recordProblem = await this.recorder.record(device, message as Parameters<Recorder['record']>[1]);
        if (recordProblem) device.socket.error('BAD_REQUEST', recordProblem);
        break;
      }
      case 'session_stopped':
        this.recorder.completeSession(device, message.session_id as string);
        break;
      case 'output':
        if (message.event === 'exit' || message.event === 'error') this.commandFinished(device, message);
        break;
      default:
        break;
    }
  }

  private commandFinished(device: DeviceConnection, message: Record<string, unknown>): void {
    if (typeof message.id !== 'string') return;
    const event: CommandFinishedEvent = {
      org_id: device.orgId,
      source_id: device.sourceId,
      command_id: message.id,
      exit_code: typeof message.code === 'number' ? message.code : null,
    };
    this.broker.nc.publish(SUBJECTS.audit.commandFinished, JSON.stringify(event));
  }
}
