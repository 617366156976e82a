import { Logger } from '@nestjs/common';
import { connect, type NatsConnection, PermissionViolationError } from '@nats-io/transport-node';

import type { NatsSettings } from '../config/nats-config.js';
import type { ReadinessCheck } from '../health/readiness.js';
import { natsConnectionOptions } from './connection-options.js';
/**
 * A NATS connection that keeps reconnecting forever and tracks whether it is up,
 * so callers can answer 503 at once instead of buffering work for a broker that is away.
 */
export class BrokerConnection {
  private readonly logger: Logger;
  private connected = true;
  /** What was refused already (logged once each), bounded: a subject may carry an org id. */
  private readonly refused = new Set<string>();

  private constructor(
    readonly nc: NatsConnection,
    name: string,
  ) {
    this.logger = new Logger(`BrokerConnection:${name}`);
    void this.watchStatus();
  }

  static async open(settings: NatsSettings, name: string): Promise<BrokerConnection> {
    const nc = await connect({
      ...natsConnectionOptions(settings, name),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: true,
      pingInterval: 10_000,
      // nats.js otherwise creates two Error objects (stack captured) for every request, JetStream
      // publishes included, only to give a timeout a caller's stack: measurable CPU per ingest
      // request, while our timeouts are logged by message and subject.
      noAsyncTraces: true,
    });
    return new BrokerConnection(nc, name);
  }

  get isConnected(): boolean {
    return this.connected && !this.nc.isClosed();
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        this.logger.warn('disconnected from NATS');
      } else if (status.type === 'reconnect') {
        this.connected = true;
        this.logger.log('reconnected to NATS');
      } else if (status.type === 'error' && status.error instanceof PermissionViolationError) {
        // The server refused a publish or subscription to this app's NATS user (its `permissions`,
        // e.g. deploy/kubernetes/nats.yaml): nothing else would tell, the message is just dropped.
        const refusal = `${status.error.operation} to ${JSON.stringify(status.error.subject)}`;
        if (this.refused.size < 100 && !this.refused.has(refusal)) {
          this.refused.add(refusal);
          this.logger.error(`NATS permissions violation: ${refusal} refused to this app's user`);
        }
      }
    }
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.drain().catch(() => this.nc.close());
  }
}

export function brokerReadiness(broker: BrokerConnection): ReadinessCheck {
  return { name: 'nats', check: async () => broker.isConnected && (await broker.nc.flush().then(() => true)) };
}
