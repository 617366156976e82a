import { Injectable } from '@nestjs/common';
import { BrokerConnection, checkDeviceEvent, type CommandFinishedEvent, type DeviceEventFrame, quoteInput, SUBJECTS } from '#common';
import { ActiveRecordings } from '../recordings/active-recordings.service.js';
import { type UncheckedFrame, withSourceId } from '../sockets/frames.js';
import type { DeviceConnection } from './device-connection.js';
import { DeviceHub } from './device-hub.service.js';
import { Recorder } from './recorder.service.js';

/** What a connected device may say, and where each message goes. */
@Injectable()
export class DeviceSession {
  constructor(
    private readonly hub: DeviceHub,
    private readonly recorder: Recorder,
    private readonly broker: BrokerConnection,
    private readonly recordings: ActiveRecordings,
  ) {}

  /** `arrivedAt`: when the frame's bytes were read from the device's socket (Unix ms). */
  async handle(device: DeviceConnection, message: UncheckedFrame, text: string, arrivedAt = Date.now()): Promise<void> {
    // Checked against the wire schema before anything is relayed, recorded or asked of another app.
    const checked = checkDeviceEvent(message);
    if (!checked) {
      device.socket.error('BAD_REQUEST', `unknown message type ${quoteInput(message.type)}`);
      return;
    }
    if (!checked.ok) {
      device.socket.error('BAD_REQUEST', `${message.type}: ${checked.problem}`);
      return;
    }
    const frame = checked.frame;
    if (frame.type === 'telemetry') this.hub.relayTelemetry(device, withSourceId(text, frame, device.sourceId).trimEnd(), arrivedAt);
    else this.hub.relay(device, frame.type, withSourceId(text, frame, device.sourceId));
    switch (frame.type) {
      case 'telemetry': {
        const recordProblem = await this.recorder.record(device, frame);
        if (recordProblem) device.socket.error('BAD_REQUEST', recordProblem);
        break;
      }
      case 'session_stopped':
        this.recorder.completeSession(device, frame.session_id);
        await this.recordings.forget(device.orgId, device.sourceId, frame.session_id);
        break;
      case 'output':
        if (frame.event === 'exit' || frame.event === 'error') this.commandFinished(device, frame);
        break;
      default:
        break;
    }
  }

  private commandFinished(device: DeviceConnection, frame: DeviceEventFrame<'output'>): void {
    const event: CommandFinishedEvent = {
      org_id: device.orgId,
      source_id: device.sourceId,
      command_id: frame.id,
      exit_code: typeof frame.code === 'number' ? frame.code : null,
    };
    this.broker.nc.publish(SUBJECTS.audit.commandFinished, JSON.stringify(event));
  }
}
