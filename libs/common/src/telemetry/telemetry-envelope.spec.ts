import { gzipSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import type { IncomingPoint } from '../messages/telemetry.js';
import { canonicalTags, pointCount, type SeriesPoints } from './series-points.js';
import { pointTimeMicros } from './ingest-schema.js';
import { BATCH_MAGIC, joinTelemetryBatches, TelemetryDecodeError } from './telemetry-batch.js';
import { decodeTelemetryBatch } from './telemetry-decode.js';
import { decodeTelemetryMessage, encodeTelemetry } from './telemetry-envelope.js';

const RECEIVED_AT_US = 1_700_000_000_000_000;
const MIB = 1024 * 1024;

function plain(series: SeriesPoints[]) {
  return series.map((s) => ({ ...s, timesUs: Array.from(s.timesUs), nums: Array.from(s.nums) }));
}

const mixed: IncomingPoint[] = [
  { metric: 'temp', value: 21.5, source_id: 'rig-1', timestamp: 1_700_000_000.25, tags: { room: 'a', rack: 2 }, session_id: 'run-1' },
  { metric: 'state', value: 'open ✓', source_id: 'rig-1' },
  { metric: 'temp', value: -0.125, source_id: 'rig-1', timestamp: 1_700_000_001_000, tags: { rack: 2, room: 'a' }, session_id: 'run-1' },
  { metric: 'cfg', value: { nested: [1, { deep: true }], s: '"quoted"\\' }, source_id: 'rig-2', timestamp: 5 },
  { metric: 'list', value: [1, 'two', null], source_id: 'rig-2', timestamp: 0 },
  { metric: 'flag', value: false, source_id: 'rig-2', timestamp: 9_999_999_999 },
];

describe('encodeTelemetry → decodeTelemetryMessage', () => {
  it('carries every point of every value type, by series, with its time, org and received_at_us', async () => {
    const parts = encodeTelemetry('org-ä', RECEIVED_AT_US, mixed, MIB);
    expect(parts).toHaveLength(1);
    expect(parts[0].subarray(0, 4)).toEqual(BATCH_MAGIC);
    const batch = await decodeTelemetryMessage(parts[0], 'plexus-batch-1');
    expect(batch.orgId).toBe('org-ä');
    expect(batch.receivedAtUs).toBe(RECEIVED_AT_US);
    expect(plain(batch.series)).toEqual([
      {
        sourceId: 'rig-1',
        metric: 'temp',
        sessionId: 'run-1',
        tags: '{"rack":2,"room":"a"}',
        timesUs: [1_700_000_000_250_000, 1_700_000_001_000_000],
        nums: [21.5, -0.125],
        jsons: null,
      },
      { sourceId: 'rig-1', metric: 'state', sessionId: '', tags: '', timesUs: [RECEIVED_AT_US], nums: [NaN], jsons: ['"open ✓"'] },
      {
        sourceId: 'rig-2',
        metric: 'cfg',
        sessionId: '',
        tags: '',
        timesUs: [5_000_000],
        nums: [NaN],
        jsons: ['{"nested":[1,{"deep":true}],"s":"\\"quoted\\"\\\\"}'],
      },
      { sourceId: 'rig-2', metric: 'list', sessionId: '', tags: '', timesUs: [0], nums: [NaN], jsons: ['[1,"two",null]'] },
      { sourceId: 'rig-2', metric: 'flag', sessionId: '', tags: '', timesUs: [9_999_999_999_000_000], nums: [NaN], jsons: ['false'] },
    ]);
  });

  it('splits a request past the max payload between series and between points, every part within it and complete', async () => {
    const points: IncomingPoint[] = Array.from({ length: 3000 }, (_, i) => ({
      metric: `m${i % 3}`,
      value: i % 2 ? i : `${i}:${'x'.repeat(100)}`,
      source_id: 'rig',
      timestamp: 1_700_000_000 + i,
    }));
    const parts = encodeTelemetry('org', 7, points, 64 * 1024);
    expect(parts.length).toBeGreaterThanOrEqual(4);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(60 * 1024);
    const batches = await Promise.all(parts.map((part) => decodeTelemetryMessage(part, undefined)));
    expect(batches.every((b) => b.orgId === 'org' && b.receivedAtUs === 7)).toBe(true);
    expect(batches.reduce((n, b) => n + pointCount(b.series), 0)).toBe(3000);
    const values = new Map<string, number[]>();
    for (const s of batches.flatMap((b) => b.series)) values.set(s.metric, [...(values.get(s.metric) ?? []), ...Array.from(s.timesUs)]);
    for (const [metric, times] of values) {
      expect(times).toEqual(points.filter((p) => p.metric === metric).map((p) => (p.timestamp as number) * 1e6));
    }
  });

  it('carries points smaller than a numeric one (empty and one-character strings, false) without calling the count a lie', async () => {
    const points: IncomingPoint[] = Array.from({ length: 2000 }, (_, i) => ({
      metric: 'state',
      value: i % 3 === 0 ? '' : i % 3 === 1 ? 'a' : false,
      source_id: 'rig',
      timestamp: i,
    }));
    const [part] = encodeTelemetry('org', 7, points, MIB);
    const [series] = (await decodeTelemetryMessage(part, undefined)).series;
    expect(series.jsons).toEqual(points.map((p) => JSON.stringify(p.value)));
  });

  it('refuses a series whose tags alone cannot fit in a message, naming the reason', () => {
    const tags = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, 'v'.repeat(1000)]));
    expect(() => encodeTelemetry('org', 7, [{ metric: 'm', value: 1, source_id: 's', tags }], 16 * 1024)).toThrow(
      'a single point does not fit in a broker message',
    );
  });

  it('refuses a single point that cannot fit in a message', () => {
    expect(() => encodeTelemetry('org', 7, [{ metric: 'm', value: 'x'.repeat(70_000), source_id: 's' }], 64 * 1024)).toThrow(
      'a single point does not fit in a broker message',
    );
  });

  it('reads the JSON messages of earlier versions, plain and gzip-compressed, as the same series', async () => {
    const json = JSON.stringify({ org_id: 'org-ä', received_at_us: RECEIVED_AT_US, request: { points: mixed } });
    const binary = await decodeTelemetryMessage(encodeTelemetry('org-ä', RECEIVED_AT_US, mixed, MIB)[0], undefined);
    expect(plain((await decodeTelemetryMessage(Buffer.from(json), undefined)).series)).toEqual(plain(binary.series));
    expect(plain((await decodeTelemetryMessage(gzipSync(json), 'gzip')).series)).toEqual(plain(binary.series));
  });
});

describe('encodeTelemetry → decodeTelemetryMessage on generated requests', () => {
  /** A small deterministic PRNG (mulberry32): the same requests every run. */
  function random(seed: number): () => number {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('gives back every point of 300 generated requests, split or not, with its series, time and value', async () => {
    const next = random(11);
    const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)];
    const text = (max: number) =>
      Array.from({ length: Math.floor(next() * max) }, () => pick(['a', 'é', '✓', '😀', ' ', '"', '\\', 'z'])).join('');
    for (let request = 0; request < 300; request++) {
      const points: IncomingPoint[] = Array.from({ length: 1 + Math.floor(next() * 400) }, (_, i) => {
        const kind = Math.floor(next() * 7);
        const value: IncomingPoint['value'] =
          kind === 0
            ? (next() - 0.5) * 1e6
            : kind === 1
              ? text(40)
              : kind === 2
                ? next() < 0.5
                : kind === 3
                  ? { a: [1, text(5)], b: { c: null } }
                  : kind === 4
                    ? [text(3), 2]
                    : kind === 5
                      ? ''
                      : -0;
        const tags =
          next() < 0.5
            ? undefined
            : next() < 0.5
              ? { room: pick(['a', 'b']), rack: pick([1, 2, true]) }
              : { rack: pick([1, 2, true]), room: pick(['a', 'b']) };
        return {
          metric: pick(['temp', 'état', 'm.x']),
          value,
          source_id: pick(['rig-1', 'rig-2']),
          ...(next() < 0.3 ? {} : { timestamp: 1_700_000_000 + i + Math.floor(next() * 1000) / 1000 }),
          ...(tags ? { tags } : {}),
          ...(next() < 0.3 ? { session_id: pick(['run-1', 'run 2']) } : {}),
        };
      });
      const maxPayload = pick([8 * 1024, 16 * 1024, 64 * 1024, MIB]);
      const parts = encodeTelemetry('org', RECEIVED_AT_US, points, maxPayload);
      const got: string[] = [];
      for (const part of parts) {
        expect(part.length).toBeLessThanOrEqual(maxPayload - 4 * 1024);
        for (const s of (await decodeTelemetryMessage(part, undefined)).series) {
          for (let i = 0; i < s.timesUs.length; i++) {
            const value = s.jsons?.[i] ?? JSON.stringify(s.nums[i]);
            got.push(JSON.stringify([s.sourceId, s.metric, s.sessionId, s.tags, s.timesUs[i], value]));
          }
        }
      }
      // From the points themselves, not from the grouping the encoder uses.
      const expected = points.map((p) =>
        JSON.stringify([
          p.source_id,
          p.metric,
          p.session_id ?? '',
          canonicalTags(p.tags),
          pointTimeMicros(p.timestamp, RECEIVED_AT_US),
          JSON.stringify(p.value),
        ]),
      );
      expect(got.sort()).toEqual(expected.sort());
      expect(got).toHaveLength(points.length);
    }
  });
});

describe('decodeTelemetryMessage refuses what the gateway would not have sent (TelemetryDecodeError)', () => {
  const good = encodeTelemetry('org', RECEIVED_AT_US, [{ metric: 'temp', value: 1.5, source_id: 'rig', tags: { a: 'b' } }], MIB)[0];
  // Offsets in `good`: magic 0–3, received_at 4–11, org length 12–13, "org" 14–16, series count 17–20,
  // source length 21–22, "rig" 23–25, metric length 26–27, "temp" 28–31, session length 32–33,
  // tags length 34–37, '{"a":"b"}' 38–46, point count 47–50, time 51–58, kind 59, value 60–67.
  const patched = (at: number, bytes: number[] | Buffer) => {
    const copy = Buffer.from(good);
    Buffer.from(bytes).copy(copy, at);
    return copy;
  };
  const f64 = (value: number) => {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value);
    return b;
  };

  it('decodes the unpatched message (the offsets below are right)', () => {
    expect(good.length).toBe(68);
    expect(plain(decodeTelemetryBatch(good).series)).toEqual([
      { sourceId: 'rig', metric: 'temp', sessionId: '', tags: '{"a":"b"}', timesUs: [RECEIVED_AT_US], nums: [1.5], jsons: null },
    ]);
  });

  it.each<[string, Buffer, RegExp]>([
    ['an empty message', Buffer.alloc(0), /not JSON/],
    ['a message cut short', good.subarray(0, 60), /ends early|more points than the message holds/],
    ['bytes after the last series', Buffer.concat([good, Buffer.from([0])]), /1 bytes after the last series/],
    ['a length past the end', patched(34, [0xff, 0xff, 0xff, 0x7f]), /ends early/],
    ['a point count past the end', patched(47, [0xff, 0xff, 0xff, 0xff]), /more points than the message holds/],
    ['a series count past the end', patched(17, [2, 0, 0, 0]), /ends early/],
    ['NaN received_at', patched(4, f64(NaN)), /received_at_us/],
    ['a negative time', patched(51, f64(-1)), /time is not/],
    ['a fractional time', patched(51, f64(1.5)), /time is not/],
    ['a time past year 9999', patched(51, f64(1e19)), /time is not/],
    ['an infinite value', patched(60, f64(Infinity)), /not a finite number/],
    ['NaN as a value', patched(60, f64(NaN)), /not a finite number/],
    ['an unknown value kind', patched(59, [7]), /unknown value kind 7/],
    ['invalid UTF-8 in a metric', patched(28, [0xc3, 0x28, 0x80, 0xff]), /metric is not valid UTF-8/],
    ['a lone surrogate (CESU) in a source id', patched(23, [0xed, 0xa0, 0x80]), /source_id is not valid UTF-8/],
    ['NUL in a metric', patched(28, [0x74, 0, 0x6d, 0x70]), /metric must/],
    ['a control character in a metric', patched(28, [0x74, 0x1b, 0x6d, 0x70]), /metric must hold printable/],
    ['a source id the contract refuses', patched(23, [0x2d, 0x2e, 0x2e]), /source_id must/],
    ['tags that are not JSON', patched(38, Buffer.from('{"a":"b"]')), /tags is not JSON/],
    ['tags that are a list', patched(38, Buffer.from('["a","b"]')), /tags must be object/],
    ['tags with a nested value', patched(38, Buffer.from('{"a":[1]}')), /tags\.a must be/],
    ['an empty org id', patched(12, [0, 0]), /./],
  ])('%s', async (_what, data, message) => {
    const error = await decodeTelemetryMessage(data, undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TelemetryDecodeError);
    expect((error as Error).message).toMatch(message);
  });

  it('refuses every prefix of a message', async () => {
    for (let length = 0; length < good.length; length++) {
      await expect(decodeTelemetryMessage(good.subarray(0, length), undefined)).rejects.toBeInstanceOf(TelemetryDecodeError);
    }
  });

  it.each<[string, string]>([
    ['null as a JSON value', 'null'],
    ['a JSON value with NUL', '"a\\u0000b"'],
    ['a JSON value with a lone surrogate', '"\\ud800"'],
    ['a JSON value that is not JSON', '{"a":'],
  ])('refuses %s', async (_what, json) => {
    const text = Buffer.from(json);
    const message = Buffer.concat([good.subarray(0, 59), Buffer.from([1]), Buffer.alloc(4), text]);
    message.writeUInt32LE(text.length, 60);
    await expect(decodeTelemetryMessage(message, undefined)).rejects.toBeInstanceOf(TelemetryDecodeError);
  });

  it.each<[string, string | Buffer, string | undefined]>([
    ['text that is not JSON', '{not json', undefined],
    ['gzip that is not gzip', 'plain', 'gzip'],
    ['JSON null', 'null', undefined],
    [
      'a message without org_id',
      JSON.stringify({ received_at_us: 1, request: { points: [{ metric: 'm', value: 1, source_id: 's' }] } }),
      undefined,
    ],
    ['a fractional received_at_us', JSON.stringify({ org_id: 'o', received_at_us: 1.5, request: { points: [] } }), undefined],
    [
      'an invalid point',
      JSON.stringify({ org_id: 'o', received_at_us: 1, request: { points: [{ metric: 'm', value: null, source_id: 's' }] } }),
      undefined,
    ],
  ])('refuses a JSON message: %s', async (_what, data, encoding) => {
    await expect(decodeTelemetryMessage(Buffer.from(data), encoding)).rejects.toBeInstanceOf(TelemetryDecodeError);
  });
});

describe('joinTelemetryBatches', () => {
  const one = (source: string, count: number, receivedAtUs = RECEIVED_AT_US) =>
    encodeTelemetry(
      'org-ä',
      receivedAtUs,
      Array.from({ length: count }, (_, i) => ({ metric: 'm', value: i, source_id: source, timestamp: 1_700_000_000 + i })),
      MIB,
    )[0];

  it("joins messages of one org into one that decodes to all their series, in order, with the first one's received_at_us", () => {
    const messages = [
      one('a', 3, RECEIVED_AT_US),
      encodeTelemetry('org-ä', RECEIVED_AT_US + 7, mixed, MIB)[0],
      one('c', 1, RECEIVED_AT_US + 9),
    ];
    const joined = joinTelemetryBatches(messages, MIB);
    expect(joined).toHaveLength(1);
    const decoded = decodeTelemetryBatch(joined[0]);
    expect(decoded.orgId).toBe('org-ä');
    expect(decoded.receivedAtUs).toBe(RECEIVED_AT_US);
    const expected = messages.flatMap((message) => plain(decodeTelemetryBatch(message).series));
    expect(plain(decoded.series)).toEqual(expected);
    expect(pointCount(decoded.series)).toBe(3 + mixed.length + 1);
  });

  it('starts a new message where the next would pass the bound, and leaves one already past it whole', () => {
    const small = [one('a', 10), one('b', 10), one('c', 10)];
    const header = 4 + 8 + 2 + Buffer.byteLength('org-ä') + 4; // written once in a joined message
    const bound = small[0].length + small[1].length - header; // room for two of them joined, not three
    const joined = joinTelemetryBatches(small, bound);
    expect(joined.map((message) => pointCount(decodeTelemetryBatch(message).series))).toEqual([20, 10]);
    for (const message of joined) expect(message.length).toBeLessThanOrEqual(bound);
    const big = one('d', 50);
    expect(joinTelemetryBatches([big, small[0]], big.length - 1)).toEqual([big, small[0]]);
    expect(joinTelemetryBatches([big], 10)).toEqual([big]);
    expect(joinTelemetryBatches([], MIB)).toEqual([]);
  });
});
