import { Injectable, type OnModuleInit } from '@nestjs/common';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { SharedConfig } from '../config/shared-config.js';
import { DomainError } from '../errors.js';
import type { IncomingPoint } from '../messages/telemetry.js';
import { BrokerConnection } from '../nats/connection.js';
import { ensureTelemetryStreams } from '../nats/streams.js';
import { HEADERS, SUBJECTS } from '../subjects.js';
import { BATCH_ENCODING } from './telemetry-batch.js';
import { ENCODING_HEADER, encodeTelemetry } from './telemetry-envelope.js';

/**
 * Publishes each accepted ingest request to JetStream and resolves only once JetStream has
 * stored it: the gateway's 200 is a promise the points reach the database.
 */
@Injectable()
export class TelemetryPublisher implements OnModuleInit {
  private js: JetStreamClient;

  constructor(
    private readonly broker: BrokerConnection,
    private readonly config: SharedConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await ensureTelemetryStreams(this.broker.nc, this.config);
    this.js = jetstream(this.broker.nc, { timeout: this.config.publishTimeoutMs });
  }

  /**
   * Stores one accepted request in JetStream in the binary form (telemetry-batch.ts): usually one
   * message, more (sharing an id prefix) when it exceeds the broker's max payload. Resolves when
   * every part is stored.
   */
  async publish(
    orgId: string,
    request: { points: readonly IncomingPoint[]; receivedAtUs: number },
    options: { idempotencyKey?: string; correlationId: string },
  ): Promise<void> {
    if (!this.broker.isConnected) {
      throw new DomainError('SERVICE_UNAVAILABLE', 'the message broker is unreachable; nothing was accepted, retry later');
    }
    const maxPayload = this.broker.nc.info?.max_payload ?? 1024 * 1024;
    let parts: Buffer[];
    try {
      parts = encodeTelemetry(orgId, request.receivedAtUs, request.points, maxPayload);
    } catch (error) {
      throw new DomainError('PAYLOAD_TOO_LARGE', `${(error as Error).message}; send it in smaller requests`);
    }
    // Scoped by org: two orgs may well pick the same key.
    const messageId = options.idempotencyKey ? `${orgId}:${options.idempotencyKey}` : undefined;
    try {
      await Promise.all(
        parts.map((part, index) => {
          const h = headers();
          h.set(HEADERS.correlationId, options.correlationId);
          h.set(ENCODING_HEADER, BATCH_ENCODING);
          const msgID = messageId && (parts.length === 1 ? messageId : `${messageId}:${index + 1}/${parts.length}`);
          return this.js.publish(SUBJECTS.telemetry.forOrg(orgId), part, {
            headers: h,
            ...(msgID ? { msgID } : {}),
            timeout: this.config.publishTimeoutMs,
          });
        }),
      );
    } catch (error) {
      throw new DomainError(
        'SERVICE_UNAVAILABLE',
        `the message broker did not store the points (${(error as Error).message}); retry later`,
      );
    }
  }
}
