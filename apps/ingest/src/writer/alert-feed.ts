import { createHash } from 'node:crypto';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import {
  encodeFeedMessage,
  ENCODING_HEADER,
  FEED_ENCODING,
  FEED_HEADER_BYTES,
  type FeedPart,
  feedPartOverhead,
  fromSubjectToken,
  SUBJECTS,
  SUBJECTS_PREFIX,
} from '#common';

const TELEMETRY_SUBJECT_PREFIX = `${SUBJECTS_PREFIX}.telemetry.`;
/** Room left in a feed message for its headers. */
const HEADER_ROOM = 1024;

/**
 * Hands committed telemetry to the alerts app, before the batch is acked: the batch's messages
 * of each org together, as bytes (never decoded here), in as few feed messages as the broker's
 * payload bound allows (FEED_ENCODING; a message too large to share one goes alone with its own
 * encoding). Each feed message's id names the telemetry sequences it carries, so the same
 * messages fed again within the duplicate window are stored once.
 */
export async function feedAlerts(js: JetStreamClient, batch: readonly JsMsg[], maxPayload: number): Promise<void> {
  const byOrg = new Map<string, JsMsg[]>();
  for (const msg of batch) {
    if (!msg.subject.startsWith(TELEMETRY_SUBJECT_PREFIX)) continue;
    const orgToken = msg.subject.slice(TELEMETRY_SUBJECT_PREFIX.length);
    const messages = byOrg.get(orgToken);
    if (messages) messages.push(msg);
    else byOrg.set(orgToken, [msg]);
  }
  const room = maxPayload - HEADER_ROOM;
  const sends: Array<Promise<unknown>> = [];
  for (const [orgToken, messages] of byOrg) {
    const subject = SUBJECTS.alerts.feed(fromSubjectToken(orgToken));
    let group: JsMsg[] = [];
    let size = FEED_HEADER_BYTES;
    const flush = () => {
      if (group.length) sends.push(publish(js, subject, group));
      group = [];
      size = FEED_HEADER_BYTES;
    };
    for (const msg of messages) {
      const bytes = feedPartOverhead(part(msg)) + msg.data.length;
      if (size + bytes > room) flush();
      group.push(msg);
      size += bytes;
    }
    flush();
  }
  await Promise.all(sends);
}

function part(msg: JsMsg): FeedPart {
  return { data: msg.data, encoding: msg.headers?.get(ENCODING_HEADER) || undefined };
}

function publish(js: JetStreamClient, subject: string, group: JsMsg[]): Promise<unknown> {
  const h = headers();
  // The telemetry sequences it carries, hashed: a message id stays short whatever the group's size.
  const msgID = `t${group[0].seq}-${createHash('sha256')
    .update(group.map((msg) => msg.seq).join(','))
    .digest('base64url')
    .slice(0, 22)}`;
  if (group.length === 1) {
    // Alone (it fills a feed message by itself, or it is the org's only one): its own bytes and encoding.
    const encoding = group[0].headers?.get(ENCODING_HEADER);
    if (encoding) h.set(ENCODING_HEADER, encoding);
    return js.publish(subject, group[0].data, { headers: h, msgID });
  }
  h.set(ENCODING_HEADER, FEED_ENCODING);
  return js.publish(subject, encodeFeedMessage(group.map(part)), { headers: h, msgID });
}
