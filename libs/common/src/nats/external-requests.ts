import { NatsRequestJSONDeserializer } from '@nestjs/microservices';

/**
 * Lets plain NATS clients (an operator's `nats req`, a script) call the platform's
 * request/reply subjects with bare JSON: a message with a reply subject but without Nest's
 * packet id is a request, not an event. Replies are Nest's packets:
 * `{"response": …}` or `{"err": {"code", "message"}}`. A body that is not JSON reaches the
 * handler as no data at all, which it refuses like any other malformed request.
 */
export class ExternalRequestDeserializer extends NatsRequestJSONDeserializer {
  override deserialize(value: Parameters<NatsRequestJSONDeserializer['deserialize']>[0], options?: Record<string, unknown>) {
    let packet: { id?: string; pattern: unknown; data: unknown };
    try {
      packet = super.deserialize(value, options) as typeof packet;
    } catch {
      // Not JSON: still a request to its subject, with no data, so its handler answers BAD_REQUEST
      // instead of the caller waiting for a reply that never comes.
      packet = { pattern: options?.channel, data: undefined };
    }
    if (packet.id === undefined && options?.replyTo) return { ...packet, id: 'external' };
    return packet;
  }
}
