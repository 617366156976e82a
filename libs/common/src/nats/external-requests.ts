import { NatsRequestJSONDeserializer } from '@nestjs/microservices';

/**
 * Lets plain NATS clients (an operator's `nats req`, a script) call the platform's
 * request/reply subjects with bare JSON: a message with a reply subject but without Nest's
 * packet id is a request, not an event. Replies are Nest's packets:
 * `{"response": …}` or `{"err": {"code", "message"}}`.
 */
export class ExternalRequestDeserializer extends NatsRequestJSONDeserializer {
  override deserialize(value: Parameters<NatsRequestJSONDeserializer['deserialize']>[0], options?: Record<string, unknown>) {
    const packet = super.deserialize(value, options) as { id?: string; pattern: unknown; data: unknown };
    if (packet.id === undefined && options?.replyTo) return { ...packet, id: 'external' };
    return packet;
  }
}
