import { type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { ENCODING_HEADER, fromSubjectToken, SUBJECTS, SUBJECTS_PREFIX } from '#common';

const TELEMETRY_SUBJECT_PREFIX = `${SUBJECTS_PREFIX}.telemetry.`;

/**
 * Hands committed telemetry to the alerts app: each message of a committed batch again, on the
 * alert feed (`SUBJECTS.alerts.feed(org)`), before the batch is acked. Its id is the telemetry
 * message's stream sequence, so a batch written twice (redelivered after a crash) is fed once
 * within the feed's duplicate window. Messages are forwarded as bytes, never decoded here.
 */
export async function feedAlerts(js: JetStreamClient, batch: readonly JsMsg[]): Promise<void> {
  await Promise.all(
    batch.map((msg) => {
      if (!msg.subject.startsWith(TELEMETRY_SUBJECT_PREFIX)) return undefined;
      const orgToken = msg.subject.slice(TELEMETRY_SUBJECT_PREFIX.length);
      const h = headers();
      const encoding = msg.headers?.get(ENCODING_HEADER);
      if (encoding) h.set(ENCODING_HEADER, encoding);
      return js.publish(SUBJECTS.alerts.feed(fromSubjectToken(orgToken)), msg.data, { headers: h, msgID: `t${msg.seq}` });
    }),
  );
}
