/**
 * The alerts app's NATS user as deploy/kubernetes/nats.yaml defines it: the `authorization` block
 * and the permissions it refers to, taken from that file as they are, loaded into a private
 * nats-server. The alerts app's own NATS code (stream setup, partition leases, the feed consumer,
 * the presence watch) runs signed in as `alerts` and must meet no permissions violation, the other
 * apps' users see what it publishes, and what it has no business doing is refused.
 *
 * No app is spawned and nothing is built: only the nats-server binary is needed (as in
 * nats-auth.e2e-spec.ts, whose tier this file shares for that reason).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection, PermissionViolationError } from '@nats-io/transport-node';
import type { AlertsConfig } from '../apps/alerts/src/config.js';
import type { BrokerConnection } from '#common';
import { kubernetesNatsPasswords as passwords, kubernetesPrefix as prefix, startKubernetesNats } from './support/kubernetes-nats.js';
import { PrivateNatsServer } from './support/nats-server.js';
import { waitFor } from './support/wait-for.js';

interface Violation {
  operation: string;
  subject: string;
  queue?: string;
}

/** A connection signed in as `user`, recording every permissions violation the server reports to it. */
async function signIn(user: string): Promise<{ nc: NatsConnection; violations: Violation[] }> {
  const nc = await connect({ servers: nats.url, user, pass: passwords[user], name: `test-${user}`, reconnect: false });
  connections.push(nc);
  const violations: Violation[] = [];
  void (async () => {
    for await (const status of nc.status())
      if (status.type === 'error' && status.error instanceof PermissionViolationError)
        violations.push({ operation: status.error.operation, subject: status.error.subject, queue: status.error.queue });
  })();
  return { nc, violations };
}

/**
 * The violations the server reported for everything `connection` did so far. Status events arrive
 * after the operation that caused them, in order: a publish the user may not make is sent last,
 * and once its violation is in, every earlier one is too.
 */
async function violationsSoFar({ nc, violations }: { nc: NatsConnection; violations: Violation[] }): Promise<Violation[]> {
  const sentinel = `test-sentinel.${connections.indexOf(nc)}.${violations.length}`;
  nc.publish(sentinel);
  await waitFor(`the server to refuse ${sentinel}`, () => violations.some((seen) => seen.subject === sentinel), 5000);
  return violations.filter((seen) => !seen.subject.startsWith('test-sentinel.'));
}

let nats: PrivateNatsServer;
const connections: NatsConnection[] = [];
// App code reads PLEXUS_NATS_PREFIX when it loads: imported after the environment is set.
let common: typeof import('#common');

beforeAll(async () => {
  process.env.PLEXUS_NATS_PREFIX = prefix;
  common = await import('#common');
  nats = await startKubernetesNats();
}, 60_000);

afterAll(async () => {
  for (const nc of connections) await nc.close().catch(() => undefined);
  await nats?.destroy();
});

describe('deploy/kubernetes/nats.yaml: the alerts user', () => {
  it('is one of the users, signs in with its password, and the test loaded the file’s users', async () => {
    expect(Object.keys(passwords).sort()).toEqual(['alerts', 'gateway', 'ingest', 'ops', 'pairing', 'realtime']);
    const { nc } = await signIn('alerts');
    await nc.flush();
    await expect(connect({ servers: nats.url, user: 'alerts', pass: 'wrong', reconnect: false })).rejects.toThrow(/authorization/i);
  });

  it('runs the alerts app’s JetStream and key-value work without a permissions violation', async () => {
    const { BUCKETS, deviceKey, ensureTelemetryStreams, STREAMS, SUBJECTS } = common;
    const { FeedConsumer } = await import('../apps/alerts/src/evaluator/feed-consumer.js');
    const { PresenceWatch } = await import('../apps/alerts/src/evaluator/presence-watch.js');
    const { PartitionLeases } = await import('../apps/alerts/src/partitions/partition-leases.service.js');
    const alerts = await signIn('alerts');
    const { nc } = alerts;
    const broker = { nc } as BrokerConnection;

    // Streams: TELEMETRY, DEADLETTER and ALERT_FEED created (here) or updated (next time).
    await ensureTelemetryStreams(nc, { idempotencyWindowSeconds: 600, streamReplicas: 1 });
    await ensureTelemetryStreams(nc, { idempotencyWindowSeconds: 600, streamReplicas: 1 });

    // Presence: realtime writes its devices bucket; the alerts app only watches it.
    const changes: string[] = [];
    const presence = new PresenceWatch(broker, 1, (orgId, sourceId, online) => changes.push(`${orgId}/${sourceId} ${online}`));
    await presence.start();
    const realtime = await signIn('realtime');
    const devices = await new Kvm(realtime.nc).open(BUCKETS.presenceDevices);
    await devices.put(deviceKey('org-a', 'dev-1'), 'instance-1');
    await waitFor('the alerts user to see the device come online', () => changes.includes('org-a/dev-1 true'));
    await devices.delete(deviceKey('org-a', 'dev-1'));
    await waitFor('the alerts user to see the device go offline', () => changes.includes('org-a/dev-1 false'));
    presence.stop();

    // Partition leases: create, compare-and-set renewals, give back on stop.
    const acquired: number[] = [];
    const config = { partitions: 2, leaseMs: 6000, renewMs: 2000, streamReplicas: 1 };
    const leases = new PartitionLeases(broker, config as unknown as AlertsConfig);
    await leases.start({ acquire: async (partition) => void acquired.push(partition), release: async () => undefined });
    expect(acquired.sort()).toEqual([0, 1]);
    await (leases as unknown as { round(): Promise<void> }).round(); // a renewal (kv.update on each held key)
    expect(leases.partitions.sort()).toEqual([0, 1]);
    await leases.onApplicationShutdown();
    const partitionKeys: string[] = [];
    for await (const key of await (await new Kvm(nc).open(BUCKETS.alertPartitions)).keys()) partitionKeys.push(key);
    expect(partitionKeys).toEqual([]);

    // The feed: ingest publishes what it committed; the partition's durable consumer reads and acks it.
    const evaluated: string[] = [];
    const feed = new FeedConsumer(nc, 0, 2, async (batch) => void evaluated.push(...batch.map((msg) => msg.subject)));
    await feed.start();
    const ingest = await signIn('ingest');
    await jetstream(ingest.nc).publish(SUBJECTS.alerts.feed('org-a'), '{}');
    await waitFor('the feed message to be evaluated', () => evaluated.includes(SUBJECTS.alerts.feed('org-a')));
    const ops = await signIn('ops');
    await waitFor('the feed message to be acked', async () => {
      const info = await (await jetstreamManager(ops.nc)).consumers.info(STREAMS.alertFeed, feed.name);
      return info.num_ack_pending === 0 && info.num_pending === 0 && info.delivered.stream_seq === 1;
    });
    await feed.stop();

    expect(await violationsSoFar(alerts)).toEqual([]);
  });

  it('publishes alert events to realtime and rule changes to every alerts pod', async () => {
    const { SUBJECTS } = common;
    const pod = await signIn('alerts');
    const otherPod = await signIn('alerts');
    const realtime = await signIn('realtime');
    const frames: string[] = [];
    realtime.nc.subscribe(SUBJECTS.alerts.eventsAll, { callback: (_, msg) => void frames.push(msg.subject) });
    const changed: string[] = [];
    otherPod.nc.subscribe(SUBJECTS.alerts.rulesChanged, { callback: (_, msg) => void changed.push(msg.string()) });
    await Promise.all([realtime.nc.flush(), otherPod.nc.flush()]);

    pod.nc.publish(SUBJECTS.alerts.events('org-a'), '{}');
    pod.nc.publish(SUBJECTS.alerts.rulesChanged, '{"org_id":"org-a"}');
    await waitFor('realtime to receive the alert event', () => frames.includes(SUBJECTS.alerts.events('org-a')));
    await waitFor('the other pod to receive the rule change', () => changed.includes('{"org_id":"org-a"}'));
    expect([...(await violationsSoFar(pod)), ...(await violationsSoFar(otherPod))]).toEqual([]);
  });

  it('answers the gateway’s rules and alerts requests in the queue group "alerts"', async () => {
    const { QUEUES, SUBJECTS } = common;
    const pod = await signIn('alerts');
    const gateway = await signIn('gateway');
    for (const subject of [SUBJECTS.alerts.listRules, SUBJECTS.alerts.testRule, SUBJECTS.alerts.list, SUBJECTS.alerts.acknowledge])
      pod.nc.subscribe(subject, {
        queue: QUEUES.alerts,
        callback: (_, msg) => void msg.respond(JSON.stringify({ answered: msg.subject })),
      });
    await pod.nc.flush();
    const answer = await gateway.nc.request(SUBJECTS.alerts.listRules, '{}', { timeout: 5000 });
    expect(answer.json()).toEqual({ answered: SUBJECTS.alerts.listRules });
    const ack = await gateway.nc.request(SUBJECTS.alerts.acknowledge, '{}', { timeout: 5000 });
    expect(ack.json()).toEqual({ answered: SUBJECTS.alerts.acknowledge });
    expect(await violationsSoFar(pod)).toEqual([]);
  });

  it('makes the app log each refused subject once: an operator’s only sign that a permission is missing', async () => {
    const { BrokerConnection, SUBJECTS } = common;
    const { Logger } = await import('@nestjs/common');
    const errors: string[] = [];
    const quiet = () => undefined;
    Logger.overrideLogger({
      log: quiet,
      warn: quiet,
      debug: quiet,
      verbose: quiet,
      error: (message: unknown) => void errors.push(String(message)),
    });
    const broker = await BrokerConnection.open(
      { servers: nats.url, auth: { kind: 'user', user: 'alerts', pass: passwords.alerts } },
      'alerts-permissions-test',
    );
    try {
      for (let i = 0; i < 3; i++) broker.nc.publish(SUBJECTS.keys.create, '{}');
      await waitFor('the refusal to be logged', () => errors.some((line) => line.includes(`"${SUBJECTS.keys.create}"`)), 5000);
      // A subject refused again is not logged again; another one is.
      broker.nc.publish(SUBJECTS.keys.revoke, '{}');
      await waitFor('the second refusal to be logged', () => errors.some((line) => line.includes(`"${SUBJECTS.keys.revoke}"`)), 5000);
      expect(errors).toEqual([
        `NATS permissions violation: publish to "${SUBJECTS.keys.create}" refused to this app's user`,
        `NATS permissions violation: publish to "${SUBJECTS.keys.revoke}" refused to this app's user`,
      ]);
    } finally {
      await broker.close();
      Logger.overrideLogger(['error', 'warn']);
    }
  });

  it('refuses what the alerts app has no business doing', async () => {
    const { BUCKETS, QUEUES, SUBJECTS } = common;
    const { nc, violations } = await signIn('alerts');
    const refused = async (what: () => unknown, violation: Violation) => {
      violations.length = 0;
      await Promise.resolve(what()).catch(() => undefined);
      // The server answers a refused operation with an error, reported through the status events.
      await waitFor(
        `a permissions violation for ${violation.operation} ${violation.subject}`,
        () => violations.some((seen) => seen.operation === violation.operation && seen.subject === violation.subject),
        5000,
        () => `saw ${JSON.stringify(violations)}`,
      );
    };
    // Another app's requests: an API key minted for any org.
    await refused(() => nc.publish(SUBJECTS.keys.create, '{}'), { operation: 'publish', subject: SUBJECTS.keys.create });
    // Telemetry, device commands and presence are not its to write.
    await refused(() => nc.publish(SUBJECTS.telemetry.forOrg('org-a'), '{}'), {
      operation: 'publish',
      subject: SUBJECTS.telemetry.forOrg('org-a'),
    });
    await refused(() => nc.publish(SUBJECTS.realtime.toDevice('org-a', 'dev-1'), '{}'), {
      operation: 'publish',
      subject: SUBJECTS.realtime.toDevice('org-a', 'dev-1'),
    });
    const deviceSubject = `$KV.${BUCKETS.presenceDevices}.org-a.dev-1`;
    await refused(() => nc.publish(deviceSubject, 'forged'), { operation: 'publish', subject: deviceSubject });
    // Nor to listen to the other apps' traffic.
    await refused(() => nc.subscribe(SUBJECTS.keys.verify), { operation: 'subscription', subject: SUBJECTS.keys.verify });
    await refused(() => nc.subscribe(SUBJECTS.alerts.feedAll), { operation: 'subscription', subject: SUBJECTS.alerts.feedAll });
    // Its API only in the queue group: outside it, a second pod would answer each request again.
    await refused(() => nc.subscribe(SUBJECTS.alerts.listRules), { operation: 'subscription', subject: SUBJECTS.alerts.listRules });
    await refused(() => nc.subscribe(SUBJECTS.alerts.listRules, { queue: `${QUEUES.alerts}-x` }), {
      operation: 'subscription',
      subject: SUBJECTS.alerts.listRules,
    });
    // Replies go only to requests it received, not into another client's inbox.
    await refused(() => nc.publish('_INBOX.someone-else.1', '{}'), { operation: 'publish', subject: '_INBOX.someone-else.1' });
  });
});

describe('presence: the live realtime instances, read by the gateway', () => {
  const instanceId = 'a1b2c3d4e5f6';

  it('lets the gateway user gather presence waiting for every instance realtime lists, without a violation', async () => {
    const { BUCKETS, onlineSources, openBucket, SUBJECTS } = common;
    const realtime = await signIn('realtime');
    // As PresenceLease does: the bucket made with the lease as max age, the instance's key put.
    const instances = await openBucket(realtime.nc, BUCKETS.presenceInstances, { history: 1, ttl: 6000 });
    await instances.put(instanceId, JSON.stringify({ renewed_at: new Date().toISOString() }));
    // A busy instance: its first piece comes well after the stall, after another one's whole answer.
    realtime.nc.subscribe(SUBJECTS.realtime.presence('org-p'), {
      callback: (_, msg) =>
        void setTimeout(() => {
          msg.respond(JSON.stringify({ sources: [], instance_id: instanceId, more: true }));
          msg.respond(JSON.stringify({ sources: [onlineSource('busy-1')], instance_id: instanceId, more: false }));
        }, 400),
    });
    realtime.nc.subscribe(SUBJECTS.realtime.presence('org-p'), {
      callback: (_, msg) =>
        void msg.respond(JSON.stringify({ sources: [onlineSource('idle-1')], instance_id: 'idle00000000', more: false })),
    });
    await realtime.nc.flush();
    const gateway = await signIn('gateway');
    const online = await onlineSources(gateway.nc, 'org-p');
    expect(online.map((source) => source.source_id).sort()).toEqual(['busy-1', 'idle-1']);
    // Both users are unrestricted in nats.yaml today (no sentinel is refused them): a flush's
    // answer comes after the server's report of anything it refused before it.
    await Promise.all([gateway.nc.flush(), realtime.nc.flush()]);
    expect([...gateway.violations, ...realtime.violations]).toEqual([]);
  });

  it('needs no more than instancesReadSubjects to read the list, which is read only', async () => {
    const { BUCKETS, instancesReadSubjects, liveInstances, openBucket } = common;
    const reader = instancesReadSubjects(BUCKETS.presenceInstances)
      .map((subject) => JSON.stringify(subject))
      .join(', ');
    const narrow = await PrivateNatsServer.start({
      config: `authorization { users: [
        { user: writer, password: writer }
        { user: reader, password: reader, permissions: { publish: { allow: [${reader}] }, subscribe: { allow: ["_INBOX.>"] } } }
        { user: stranger, password: stranger, permissions: { publish: { allow: ["nothing"] }, subscribe: { allow: ["_INBOX.>"] } } }
      ] }`,
      probe: { user: 'writer', pass: 'writer' },
    });
    try {
      const writer = await connect({ servers: narrow.url, user: 'writer', pass: 'writer', reconnect: false });
      connections.push(writer);
      const instances = await openBucket(writer, BUCKETS.presenceInstances, { history: 1, ttl: 6000 });
      await instances.put(instanceId, JSON.stringify({ renewed_at: new Date().toISOString() }));
      const signInThere = async (user: string) => {
        const nc = await connect({ servers: narrow.url, user, pass: user, reconnect: false });
        connections.push(nc);
        const violations: Violation[] = [];
        void (async () => {
          for await (const status of nc.status())
            if (status.type === 'error' && status.error instanceof PermissionViolationError)
              violations.push({ operation: status.error.operation, subject: status.error.subject });
        })();
        return { nc, violations };
      };
      const allowed = await signInThere('reader');
      expect(await liveInstances(allowed.nc, BUCKETS.presenceInstances)).toEqual(new Set([instanceId]));
      expect(await violationsSoFar(allowed)).toEqual([]);
      // Read only: a put is refused.
      const forged = `$KV.${BUCKETS.presenceInstances}.ffffffffffff`;
      allowed.nc.publish(forged, '{"renewed_at":"now"}');
      expect(await violationsSoFar(allowed)).toEqual([{ operation: 'publish', subject: forged }]);
      // Without those subjects: no list (the gather then works as before the list), no throw.
      const stranger = await signInThere('stranger');
      expect(await liveInstances(stranger.nc, BUCKETS.presenceInstances)).toBeUndefined();
    } finally {
      await narrow.destroy();
    }
  });
});

function onlineSource(sourceId: string) {
  return { source_id: sourceId, platform: 'linux', sensors: [], cameras: [], connected_at: new Date().toISOString() };
}
