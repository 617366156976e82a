import { describe, expect, it } from '@jest/globals';
import { seededRandom as seeded } from '../../../test/support/hostile.js';
import { readNatsPrefix } from './config/shared-config.js';
import {
  alertFeedSlot,
  alertPartitionOf,
  BUCKETS,
  bucketStream,
  bucketsFor,
  fromKvKeyToken,
  fromSubjectToken,
  kvKeyToken,
  namedSubjects,
  STREAMS,
  streamsFor,
  SUBJECTS,
  subjectsFor,
  subjectToken,
} from './subjects.js';

/** Random strings over what ids can be made of and what an attacker sends: ASCII, Latin-1, BMP, astral pairs, lone surrogates. */
function randomString(random: () => number): string {
  const length = Math.floor(random() * 12);
  let out = '';
  for (let i = 0; i < length; i++) {
    const kind = Math.floor(random() * 6);
    if (kind === 0) out += 'a.0%_-:*> '[Math.floor(random() * 11)] ?? 'a';
    else if (kind === 1) out += String.fromCharCode(Math.floor(random() * 0x100));
    else if (kind === 2) out += String.fromCharCode(Math.floor(random() * 0x10000));
    else if (kind === 3) out += String.fromCodePoint(0x10000 + Math.floor(random() * 0xfffff));
    else if (kind === 4) out += String.fromCharCode(0xd800 + Math.floor(random() * 0x800));
    else out += String.fromCharCode(0x20 + Math.floor(random() * 0x5f));
  }
  return out;
}

describe('subjectToken', () => {
  it('keeps the ids of the ingest rule readable and single tokens', () => {
    expect(subjectToken('sensor-01_a')).toBe('sensor-01_a');
    expect(subjectToken('lab.0')).toBe('lab%002e0');
    expect(subjectToken('a:b')).toBe('a%003ab');
    for (const id of ['a.b', 'a*', 'a>', 'a b', '%', '\u0000', 'x'.repeat(128)]) {
      expect(subjectToken(id)).toMatch(/^[A-Za-z0-9_%-]*$/);
    }
  });

  it('gives U+02E0 and ".0" different tokens (the collision of issue 10)', () => {
    expect(subjectToken('lab\u02e0')).not.toBe(subjectToken('lab.0'));
    expect(SUBJECTS.realtime.toDevice('default', 'lab\u02e0')).not.toBe(SUBJECTS.realtime.toDevice('default', 'lab.0'));
  });

  it('round-trips every string, astral and lone surrogates included (seeded property test)', () => {
    const random = seeded(20261201);
    for (let i = 0; i < 20_000; i++) {
      const id = randomString(random);
      expect(fromSubjectToken(subjectToken(id))).toBe(id);
    }
  });

  it('is injective: distinct strings never share a token (seeded property test)', () => {
    const random = seeded(42);
    const seen = new Map<string, string>();
    for (let i = 0; i < 20_000; i++) {
      const id = randomString(random);
      const token = subjectToken(id);
      const before = seen.get(token);
      if (before !== undefined) expect(before).toBe(id);
      seen.set(token, id);
    }
    // Every single UTF-16 unit has its own token.
    const tokens = new Set<string>();
    for (let unit = 0; unit < 0x10000; unit++) tokens.add(subjectToken(String.fromCharCode(unit)));
    expect(tokens.size).toBe(0x10000);
  });

  it('bounds the token of a 128-char id far below the 4 KiB control line', () => {
    expect(subjectToken('\u{1F600}'.repeat(64)).length).toBe(128 * 5);
  });
});

describe('kvKeyToken', () => {
  it('is one token of a valid key-value key, for every string (seeded property test)', () => {
    const random = seeded(7);
    const seen = new Map<string, string>();
    for (let i = 0; i < 20_000; i++) {
      const id = randomString(random);
      const token = kvKeyToken(id);
      // The key rule of nats.js (`[-/=.\w]+`), without '.', so an id never splits a key.
      expect(token).toMatch(/^[-=\w]*$/);
      expect(fromKvKeyToken(token)).toBe(id);
      const before = seen.get(token);
      if (before !== undefined) expect(before).toBe(id);
      seen.set(token, id);
    }
    expect(kvKeyToken('lab.0')).toBe('lab=002e0');
  });

  it('refuses a token it never writes, instead of reading it as some other id', () => {
    for (const token of ['=', '=00', '=zzzz', '%002e', 'a.b', '=0041', 'x=002']) expect(fromKvKeyToken(token)).toBeUndefined();
    expect(fromKvKeyToken('a=002eb')).toBe('a.b');
  });
});

/** Every subject a factory builds, functions called with ids that need escaping. */
function allSubjects(node: object): string[] {
  return Object.values(node).flatMap((value) =>
    typeof value === 'object' ? allSubjects(value) : typeof value === 'function' ? [value('org.1', 'src 2')] : [value],
  );
}

describe('subjectsFor and streamsFor', () => {
  it('build every subject and stream under the prefix given', () => {
    const subjects = allSubjects(subjectsFor('t0abc'));
    expect(subjects.length).toBeGreaterThan(30);
    for (const subject of subjects) expect(subject).toMatch(/^t0abc\.[a-z]/);
    expect(subjectsFor('t0abc').telemetry.forOrg('lab.0')).toBe('t0abc.telemetry.lab%002e0');
    expect(subjectsFor('t0abc').keys.revoked).toBe('t0abc.keys.revoked');
    expect(streamsFor('t0abc')).toEqual({ telemetry: 't0abc_TELEMETRY', deadLetter: 't0abc_DEADLETTER', alertFeed: 't0abc_ALERT_FEED' });
  });

  it('give two prefixes disjoint names, so platforms sharing one NATS never meet', () => {
    const a = new Set([...allSubjects(subjectsFor('alpha')), ...Object.values(streamsFor('alpha'))]);
    for (const name of [...allSubjects(subjectsFor('beta')), ...Object.values(streamsFor('beta'))]) expect(a.has(name)).toBe(false);
  });

  it('name the key-value buckets under the prefix too, as valid bucket names, disjoint between prefixes', () => {
    expect(bucketsFor('t0abc')).toEqual({
      presenceInstances: 't0abc_RT_INSTANCES',
      presenceDevices: 't0abc_RT_DEVICES',
      recordings: 't0abc_RT_RECORDINGS',
      alertPartitions: 't0abc_ALERT_PARTITIONS',
    });
    expect(bucketStream('t0abc_RT_DEVICES')).toBe('KV_t0abc_RT_DEVICES');
    for (const name of Object.values(bucketsFor('a-Z_9'))) expect(name).toMatch(/^[-\w]+$/);
    const alpha = new Set(Object.values(bucketsFor('alpha')));
    for (const name of Object.values(bucketsFor('beta'))) expect(alpha.has(name)).toBe(false);
  });

  it('SUBJECTS, STREAMS and BUCKETS are the factories applied to PLEXUS_NATS_PREFIX', () => {
    expect(allSubjects(SUBJECTS)).toEqual(allSubjects(subjectsFor(readNatsPrefix())));
    expect(STREAMS).toEqual(streamsFor(readNatsPrefix()));
    expect(BUCKETS).toEqual(bucketsFor(readNatsPrefix()));
  });
});

describe('namedSubjects', () => {
  it('names every fixed subject by its path under the prefix, and no wildcard or per-id subject', () => {
    const named = namedSubjects('ops1');
    expect(named.get('keys.create')).toBe('ops1.keys.create');
    expect(named.get('orgs.list')).toBe('ops1.orgs.list');
    expect(named.get('pairing.code.create')).toBe('ops1.pairing.code.create');
    for (const hostile of ['telemetry.>', 'deadletter.>', 'rt.presence.*', 'keys', '', '>', '*', '../keys.create', 'ops1.keys.create']) {
      expect(named.has(hostile)).toBe(false);
    }
    for (const [name, subject] of named) expect(subject).toBe(`ops1.${name}`);
  });
});

describe('the alert feed and its partitions', () => {
  const orgs = Array.from({ length: 2000 }, (_, i) => `org-${i}`);

  it('puts an org in one feed slot (0…63) whose bits lead its subject, the same every time', () => {
    expect(subjectsFor('p').alerts.feed('default')).toBe(
      `p.alertfeed.${[5, 4, 3, 2, 1, 0].map((b) => (alertFeedSlot('default') >> b) & 1).join('.')}.default`,
    );
    expect(subjectsFor('p').alerts.feed('a.b')).toMatch(/^p\.alertfeed(\.[01]){6}\.a%002eb$/);
    for (const org of orgs) expect(alertFeedSlot(org)).toBe(alertFeedSlot(org));
    expect(new Set(orgs.map(alertFeedSlot)).size).toBe(64);
  });

  it('gives each org exactly one partition for every power of two, whose filter is the only one matching its subject', () => {
    const matches = (filter: string, subject: string) => {
      const f = filter.split('.');
      const s = subject.split('.');
      return f.every((token, i) => token === '>' || token === '*' || token === s[i]) && (f.at(-1) === '>' || f.length === s.length);
    };
    for (const n of [1, 2, 4, 8, 16, 32, 64]) {
      for (const org of orgs.slice(0, 300)) {
        const subject = subjectsFor('p').alerts.feed(org);
        const matching = Array.from({ length: n }, (_, i) => i).filter((i) =>
          matches(subjectsFor('p').alerts.feedPartition(i, n), subject),
        );
        expect(matching).toEqual([alertPartitionOf(org, n)]);
      }
    }
  });
});
