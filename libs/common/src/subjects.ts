import { readNatsPrefix } from './config/shared-config.js';

/**
 * An id as one NATS subject token, injectively: every UTF-16 unit outside [A-Za-z0-9_-] (so
 * '.', '*', '>', whitespace, '%' itself, astral halves and lone surrogates) is written '%' and
 * exactly four hex digits. Fixed width is what makes it injective: with variable width,
 * U+02E0 ("%2e0") and ".0" ("%2e" "0") were the same token, and a command for one device
 * reached another. A 128-char id is at most 640 chars, far below the server's 4 KiB control line.
 */
export function subjectToken(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, (unit) => `%${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The exact inverse of subjectToken on everything it produces. */
export function fromSubjectToken(token: string): string {
  return token.replace(/%([0-9a-f]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * An id as one token of a NATS key-value key: subjectToken with '=' for '%' (KV keys allow
 * `[-/=.\w]`, not '%'; subjectToken never writes '='), so still injective and one token.
 */
export function kvKeyToken(id: string): string {
  return subjectToken(id).replace(/%/g, '=');
}

/** The inverse of kvKeyToken; undefined for a token kvKeyToken never writes (checked by re-encoding). */
export function fromKvKeyToken(token: string): string | undefined {
  const id = fromSubjectToken(token.replace(/=/g, '%'));
  return kvKeyToken(id) === token ? id : undefined;
}

/** The alert feed has 2^6 slots; alert partitions are powers of two up to that. */
export const FEED_SLOT_BITS = 6;
export const MAX_ALERT_PARTITIONS = 2 ** FEED_SLOT_BITS;

/**
 * The feed slot of an org (0…63): FNV-1a of the org id's UTF-16 units, low 6 bits. Stable across
 * processes and versions: ingest publishes by it and alerts partitions filter by it.
 */
export function alertFeedSlot(orgId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < orgId.length; i++) {
    hash ^= orgId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash & (MAX_ALERT_PARTITIONS - 1);
}

/** The alert partition (of `partitions`, a power of two up to 64) that evaluates an org: the top bits of its slot. */
export function alertPartitionOf(orgId: string, partitions: number): number {
  return alertFeedSlot(orgId) >> (FEED_SLOT_BITS - Math.log2(partitions));
}

/** `bits` tokens, most significant first: 5 of 3 bits → "1.0.1". */
function slotTokens(value: number, bits: number): string {
  const tokens: string[] = [];
  for (let bit = bits - 1; bit >= 0; bit--) tokens.push(String((value >> bit) & 1));
  return tokens.join('.');
}

/**
 * Every NATS subject the platform uses, in one place, under `prefix` (PLEXUS_NATS_PREFIX). Tests,
 * `npm run ops` and anything that speaks to a platform from outside build names with this, never
 * by hand.
 */
export function subjectsFor(p: string) {
  return {
    telemetry: {
      /** Durable telemetry, an accepted request per message or several of one org joined (telemetry-publisher.service.ts): `<prefix>.telemetry.<org>`. */
      forOrg: (orgId: string) => `${p}.telemetry.${subjectToken(orgId)}`,
      all: `${p}.telemetry.>`,
      deadLetter: `${p}.deadletter.telemetry`,
      deadLetterAll: `${p}.deadletter.>`,
    },
    keys: {
      verify: `${p}.keys.verify`,
      create: `${p}.keys.create`,
      list: `${p}.keys.list`,
      revoke: `${p}.keys.revoke`,
      /** Event, broadcast to every gateway and realtime instance. */
      revoked: `${p}.keys.revoked`,
    },
    pairing: {
      createCode: `${p}.pairing.code.create`,
      codeStatus: `${p}.pairing.code.status`,
      complete: `${p}.pairing.complete`,
    },
    sources: {
      /** For operators: `{ sources: [...] }` in one reply, refused when it would pass NATS's max_payload. */
      list: `${p}.sources.list`,
      /**
       * The gateway's GET /api/sources: the org's sources as a chunked stream (nats/chunk-stream.ts)
       * of one JSON source a line, so a fleet of any size passes under max_payload.
       */
      listStream: `${p}.sources.list.stream`,
      revoke: `${p}.sources.revoke`,
      /** Event, broadcast: realtime instances disconnect the source's socket. */
      revoked: `${p}.sources.revoked`,
      /** Event from realtime: a source connected or is alive, with its description. */
      seen: `${p}.sources.seen`,
      /** Request from realtime: does the source have a device token? `SourcePairedRequest` → `SourcePairedReply`. */
      paired: `${p}.sources.paired`,
    },
    devices: {
      verify: `${p}.devices.verify`,
    },
    /** Tenancy, for operators (`npm run ops`); answered by the pairing app. */
    orgs: {
      create: `${p}.orgs.create`,
      list: `${p}.orgs.list`,
      disable: `${p}.orgs.disable`,
      /** Event, broadcast: gateways drop the org's cached keys, realtime closes its sockets. */
      disabled: `${p}.orgs.disabled`,
    },
    /** Between realtime instances (core NATS: live, not durable). */
    realtime: {
      /** Request to the instance holding the device; no responder means the device is offline. */
      toDevice: (orgId: string, sourceId: string) => `${p}.rt.device.${subjectToken(orgId)}.${subjectToken(sourceId)}`,
      /** Everything a device says, and its presence, for the org's browsers on every instance. */
      fromDevice: (orgId: string, sourceId: string) => `${p}.rt.out.${subjectToken(orgId)}.${subjectToken(sourceId)}`,
      fromDevicesOfOrg: (orgId: string) => `${p}.rt.out.${subjectToken(orgId)}.*`,
      /**
       * An org's live telemetry (no session): the frames one instance read in one event-loop turn,
       * coalesced into one message (`LiveTelemetryBatch`), for the org's browsers on every instance.
       */
      liveTelemetry: (orgId: string) => `${p}.rt.live.${subjectToken(orgId)}`,
      /** A source connected somewhere: any other instance holding it closes its socket. */
      takeover: (orgId: string, sourceId: string) => `${p}.rt.takeover.${subjectToken(orgId)}.${subjectToken(sourceId)}`,
      takeoverAll: `${p}.rt.takeover.>`,
      /** Scatter-gather: every instance answers with the org's sources connected to it. */
      presence: (orgId: string) => `${p}.rt.presence.${subjectToken(orgId)}`,
      presenceAll: `${p}.rt.presence.*`,
    },
    audit: {
      commandStarted: `${p}.audit.command.start`,
      commandFinished: `${p}.audit.command.finish`,
      list: `${p}.audit.command.list`,
    },
    sessions: {
      create: `${p}.sessions.create`,
      update: `${p}.sessions.update`,
      list: `${p}.sessions.list`,
      get: `${p}.sessions.get`,
      export: `${p}.sessions.export`,
    },
    query: {
      points: `${p}.query.points`,
    },
    /** Answered by the alerts app (queue group "alerts"): docs/alerts.md. */
    alerts: {
      createRule: `${p}.alerts.rules.create`,
      listRules: `${p}.alerts.rules.list`,
      getRule: `${p}.alerts.rules.get`,
      updateRule: `${p}.alerts.rules.update`,
      deleteRule: `${p}.alerts.rules.delete`,
      testRule: `${p}.alerts.rules.test`,
      list: `${p}.alerts.list`,
      acknowledge: `${p}.alerts.ack`,
      /** Event, core NATS: an alert fired, resolved or was acknowledged (`AlertEvent`); realtime tells the org's browsers. */
      events: (orgId: string) => `${p}.alerts.events.${subjectToken(orgId)}`,
      eventsAll: `${p}.alerts.events.*`,
      /**
       * The alerts app's feed: each telemetry message again, published by ingest once its points are
       * committed (before it acks them), so alerts see every stored point:
       * `<prefix>.alertfeed.<b5>.<b4>.<b3>.<b2>.<b1>.<b0>.<org>`, the bits of the org's feed slot
       * (alertFeedSlot) first, so a partition's consumer filters its share by subject.
       */
      feed: (orgId: string) => `${p}.alertfeed.${slotTokens(alertFeedSlot(orgId), FEED_SLOT_BITS)}.${subjectToken(orgId)}`,
      feedAll: `${p}.alertfeed.>`,
      /** The feed of partition `i` of `n` (a power of two up to 64): the subjects of the orgs alertPartitionOf puts there. */
      feedPartition: (i: number, n: number) => {
        const bits = Math.log2(n);
        return bits === 0 ? `${p}.alertfeed.>` : `${p}.alertfeed.${slotTokens(i, bits)}.>`;
      },
      /** Event, broadcast: a rule was created, changed or deleted; every alerts instance reloads the org's rules. */
      rulesChanged: `${p}.alerts.rules.changed`,
    },
    health: {
      ready: (app: string) => `${p}.health.${app}`,
    },
  } as const;
}

/** The JetStream streams under `prefix`. */
export function streamsFor(p: string) {
  return {
    telemetry: `${p}_TELEMETRY`,
    deadLetter: `${p}_DEADLETTER`,
    /** Committed telemetry for the alerts app (limits retention: a day or 1 GiB, ALERT_FEED_MAX_AGE_MS and ALERT_FEED_MAX_BYTES in nats/streams.ts). */
    alertFeed: `${p}_ALERT_FEED`,
  } as const;
}

/**
 * The NATS key-value buckets under `prefix` (each is stream `KV_<bucket>`, subjects `$KV.<bucket>.>`).
 * Realtime's presence lease and the sessions its devices record: docs/realtime.md, "After a crash".
 */
export function bucketsFor(p: string) {
  return {
    /** One key per realtime instance, put every PLEXUS_PRESENCE_RENEW_MS; the bucket's max age is the lease. */
    presenceInstances: `${p}_RT_INSTANCES`,
    /** One key per connected device (`<org>.<source>` in kvKeyToken form): the instance holding it. */
    presenceDevices: `${p}_RT_DEVICES`,
    /** One key per source recording a session: the `start_session` it was sent, sent again when it reconnects. */
    recordings: `${p}_RT_RECORDINGS`,
    /** One key per partition of the orgs (`p<i>`): the alerts instance evaluating it; the bucket's max age is the lease. */
    alertPartitions: `${p}_ALERT_PARTITIONS`,
  } as const;
}

/** The JetStream stream that holds a key-value bucket. */
export function bucketStream(bucket: string): string {
  return `KV_${bucket}`;
}

export type Subjects = ReturnType<typeof subjectsFor>;

/**
 * The fixed subjects (no id in them, no wildcard) by their name under the prefix: 'keys.create'
 * → '<prefix>.keys.create'. What `npm run ops` and tests address by name, so a name that is not
 * one of the platform's subjects is refused instead of sent nowhere.
 */
export function namedSubjects(prefix: string): Map<string, string> {
  const named = new Map<string, string>();
  const walk = (node: object) => {
    for (const value of Object.values(node)) {
      if (typeof value === 'object') walk(value);
      else if (typeof value === 'string' && !/[*>]/.test(value)) named.set(value.slice(prefix.length + 1), value);
    }
  };
  walk(subjectsFor(prefix));
  return named;
}
export type Streams = ReturnType<typeof streamsFor>;

/**
 * The subjects of this process, from PLEXUS_NATS_PREFIX as it is when this file loads. Nest reads
 * `@MessagePattern(SUBJECTS.keys.verify)` and `@EventPattern(...)` arguments when the controller's
 * file loads, before any module or provider exists, and Nest 12's NATS transport has no subject
 * prefix option (ServerNats subscribes to each registered pattern as written): so the apps take
 * their subjects from here, and their ConfigModule refuses to start if the config provider's
 * natsPrefix differs from SUBJECTS_PREFIX. Set PLEXUS_NATS_PREFIX before importing an app module.
 */
export const SUBJECTS_PREFIX = readNatsPrefix();
export const SUBJECTS = subjectsFor(SUBJECTS_PREFIX);
export const STREAMS = streamsFor(SUBJECTS_PREFIX);
export const BUCKETS = bucketsFor(SUBJECTS_PREFIX);

export const CONSUMERS = {
  ingestWriter: 'ingest-writer',
  /** The alerts app's durable consumer of the telemetry stream for partition `i` of `n`. */
  alertsPartition: (i: number, n: number) => `alerts-p${i}-of-${n}`,
} as const;

export const QUEUES = {
  pairing: 'pairing',
  ingest: 'ingest',
  alerts: 'alerts',
} as const;

export const HEADERS = {
  correlationId: 'Plexus-Correlation-Id',
  deadLetterReason: 'Plexus-Dead-Letter-Reason',
  /** Type of a relayed realtime message, so instances route it without parsing. */
  messageType: 'Plexus-Type',
} as const;
