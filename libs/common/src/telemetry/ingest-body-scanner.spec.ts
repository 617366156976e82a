import { describe, expect, it } from '@jest/globals';
import secureJson from 'secure-json-parse';
import { validateIngestBody } from './ingest-schema.js';
import { scanIngestBody } from './ingest-body-scanner.js';
import { groupBySeries, type SeriesPoints } from './series-points.js';

const RECEIVED_AT_US = 1_700_000_123_456_789;

/**
 * Series by what they mean (source, metric, session, canonical tags), in order of first
 * appearance, points as sorted [time, value] pairs: the general path keeps a point without tags
 * and one with `"tags":{}` in two runs of the same series, where the fast path keeps one; the
 * writer stores both the same way.
 */
function plain(series: SeriesPoints[]) {
  const byIdentity = new Map<string, { identity: string[]; points: number[][] }>();
  for (const s of series) {
    const identity = [s.sourceId, s.metric, s.sessionId, s.tags];
    const key = JSON.stringify(identity);
    if (!byIdentity.has(key)) byIdentity.set(key, { identity, points: [] });
    expect(s.jsons).toBeNull();
    for (let i = 0; i < s.timesUs.length; i++) byIdentity.get(key)!.points.push([s.timesUs[i], s.nums[i]]);
  }
  return [...byIdentity.values()].map(({ identity, points }) => ({
    identity,
    points: points.sort((a, b) => a[0] - b[0] || a[1] - b[1] || (Object.is(a[1], -0) ? -1 : 1)),
  }));
}

/** The general path, as the gateway runs it: Fastify's JSON parser (secure-json-parse), the schema, grouping. */
function general(text: string): { ok: true; series: SeriesPoints[]; points: number } | { ok: false } {
  let body: unknown;
  try {
    body = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    return { ok: false };
  }
  const checked = validateIngestBody(body);
  if (!checked.ok) return { ok: false };
  return { ok: true, series: groupBySeries(checked.points, RECEIVED_AT_US), points: checked.points.length };
}

/** Whatever the fast path accepts, the general path accepts and reads the same; answers whether the fast path took it. */
function agrees(text: string): boolean {
  const fast = scanIngestBody(Buffer.from(text), RECEIVED_AT_US);
  if (!fast) return false;
  const expected = general(text);
  expect({ text, ok: expected.ok }).toEqual({ text, ok: true });
  if (!expected.ok) return true;
  expect({ text, series: plain(fast.series), points: fast.points }).toEqual({
    text,
    series: plain(expected.series),
    points: expected.points,
  });
  expect(fast.receivedAtUs).toBe(RECEIVED_AT_US);
  return true;
}

describe('scanIngestBody (the fast path of POST /api/ingest)', () => {
  it('reads plain numeric telemetry exactly as JSON.parse, the schema and grouping do', () => {
    const bodies = [
      '{"points":[{"metric":"temp","value":21.5,"timestamp":1700000000.25,"source_id":"rig-1","tags":{"room":"a","rack":2}}]}',
      ' { "points" : [ { "source_id" : "a" , "metric" : "m" , "value" : -0 } , {"metric":"m","value":0,"source_id":"a"} ] } \n',
      '{"points":[{"metric":"m","value":1,"source_id":"a","tags":{"b":true,"a":false}},{"metric":"m","value":2,"source_id":"a","tags":{"a":false,"b":true}}]}',
      '{"points":[{"metric":"m","value":1,"source_id":"a","tags":{}},{"metric":"m","value":2,"source_id":"a"},{"metric":"m","value":3,"source_id":"a","session_id":"run 1"}]}',
      '{"points":[{"metric":"m","value":123456789012345,"timestamp":1700000000001,"source_id":"A.b_c:d-9"},{"metric":"m","value":0.000000000000001,"source_id":"A.b_c:d-9"}]}',
      '{"points":[{"metric":"~ !#$%&()*+,-./:;<=>?@[]^_`{|}","value":-12.75,"timestamp":0,"source_id":"0"}]}',
      `{"points":[{"metric":"m","value":1,"timestamp":253402300799999,"source_id":"a"},{"metric":"m","value":1,"timestamp":99999999999.999,"source_id":"a"}]}`,
    ];
    for (const text of bodies) expect([text, agrees(text)]).toEqual([text, true]);
  });

  it('leaves to the general path what it does not take, valid or not', () => {
    const general = [
      '{"points":[{"metric":"m","value":"text","source_id":"a"}]}',
      '{"points":[{"metric":"m","value":1e3,"source_id":"a"}]}',
      '{"points":[{"metric":"m","value":1234567890123456,"source_id":"a"}]}',
      '{"points":[{"metric":"m\\u0041","value":1,"source_id":"a"}]}',
      '{"points":[{"metric":"é","value":1,"source_id":"a"}]}',
      '{"points":[{"metric":"m\x7f","value":1,"source_id":"a"}]}',
      '{"points":[{"metric":"m","value":1,"source_id":"a","extra":1}]}',
      '{"points":[{"metric":"m","value":1,"source_id":"a","value":2}]}',
      '{"points":[{"metric":"m","value":1,"source_id":"a","tags":{"__proto__":"x"}}]}',
      '{"points":[{"metric":"m","value":1,"source_id":"a","tags":{"k":"v","k":"w"}}]}',
      '{"points":[{"metric":"m","value":1,"source_id":"a"}],"other":1}',
      '\ufeff{"points":[{"metric":"m","value":1,"source_id":"a"}]}',
      '{"points":[{"metric":"m","value":1,"timestamp":-1,"source_id":"a"}]}',
      '{"points":[{"metric":"m","value":1,"timestamp":253402300800000,"source_id":"a"}]}',
      '{"points":[{"metric":"m","value":1,"source_id":"-a"}]}',
      '{"points":[{"metric":"","value":1,"source_id":"a"}]}',
      '{"points":[{"metric":"m","value":01,"source_id":"a"}]}',
      '{"points":[{"metric":"m","value":1.,"source_id":"a"}]}',
      '{"points":[{"metric":"m","value":1,"source_id":"a"}]',
      '{"points":[]}',
      '{"points":[{"metric":"m","value":1,"source_id":"a"}]}x',
      '{"points":[{"metric":"m","value":null,"source_id":"a"}]}',
      '{"points":[{"metric":"m","value":1,"source_id":"a","tags":[]}]}',
      '{"points":[{"metric":"m","value":1,"source_id":"a","tags":{"k":{"deep":1}}}]}',
      '{"points":[{"metric":"m","value":1}]}',
      `{"points":[${Array(10_001).fill('{"metric":"m","value":1,"source_id":"a"}').join(',')}]}`,
      '',
      '{',
    ];
    for (const text of general)
      expect([text.slice(0, 80), scanIngestBody(Buffer.from(text), RECEIVED_AT_US)]).toEqual([text.slice(0, 80), undefined]);
  });

  it('leaves bytes that are not printable ASCII to the general path: invalid UTF-8, raw NUL, escaped surrogates, deep values', () => {
    const plainPoint = '{"metric":"m","value":1,"source_id":"a"}';
    const bodies = [
      Buffer.concat([Buffer.from('{"points":[{"metric":"m'), Buffer.from([0xff, 0xfe]), Buffer.from('","value":1,"source_id":"a"}]}')]),
      Buffer.concat([Buffer.from('{"points":[{"metric":"m'), Buffer.from([0x00]), Buffer.from('","value":1,"source_id":"a"}]}')]),
      Buffer.from(`{"points":[${plainPoint},{"metric":"m\\ud800","value":1,"source_id":"a"}]}`),
      Buffer.from(
        `{"points":[${plainPoint},{"metric":"m","value":1,"source_id":"a","tags":{"k":${'['.repeat(10_000)}${']'.repeat(10_000)}}}]}`,
      ),
      Buffer.from(`{"points":[${plainPoint},{"metric":"m","value":${'['.repeat(10_000)}${']'.repeat(10_000)},"source_id":"a"}]}`),
    ];
    for (const body of bodies) expect(scanIngestBody(body, RECEIVED_AT_US)).toBeUndefined();
  });

  it('agrees with the general path on generated bodies, hostile ones included', () => {
    let seed = 11;
    const random = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), seed % n);
    const pick = <T>(items: T[]): T => items[random(items.length)];
    const numbers = [
      '0',
      '-0',
      '1',
      '-1',
      '21.5',
      '0.1',
      '1700000000.001',
      '1700000000001',
      '123456789012345',
      '1234567890123456',
      '1e3',
      '01',
      '1.',
      '-',
      '.5',
      '9007199254740993',
      '0.30000000000000004',
      '253402300799999',
      '253402300800000',
    ];
    const strings = [
      'a',
      'rig-1',
      'A.b_c:d-9',
      '',
      '-x',
      'é',
      'a\\"b',
      'a\\u0000',
      'tab\\t',
      'del\x7f',
      ' spaced ',
      '~',
      'x'.repeat(129),
      'x'.repeat(257),
      '__proto__',
      'constructor',
    ];
    const value = () => pick([pick(numbers), `"${pick(strings)}"`, 'true', 'false', 'null', '{"k":1}', '[1]']);
    const ws = () => pick(['', '', '', ' ', '\n', '\t ']);
    const tags = () => {
      const pairs = Array.from(
        { length: random(4) },
        () =>
          `${ws()}"${pick(['room', 'rack', 'a', 'b', '', '__proto__', 'k'])}"${ws()}:${ws()}${pick([`"${pick(strings)}"`, pick(numbers), 'true', 'false', 'null'])}`,
      );
      return pick([`{${pairs.join(',')}}`, `{${pairs.join(',')}}`, '[]', 'null', '"x"']);
    };
    // Half the bodies are plain (what the fast path should take), half mix in anything.
    let hostile = false;
    const point = () => {
      if (!hostile) {
        const fields = [
          `"metric":"${pick(['temp', 'm', 'x'.repeat(256)])}"`,
          `"value":${pick(['0', '-0', '1', '-1', '21.5', '0.1', '123456789012345', '0.30000000000000004'.slice(0, 17)])}`,
          `"source_id":"${pick(['rig-1', 'rig-2', 'A.b_c:d-9'])}"`,
        ];
        if (random(2)) fields.push(`"timestamp":${pick(['0', '1700000000.001', '1700000000001', '253402300799999', '99999999999.999'])}`);
        if (random(2))
          fields.push(`"tags":${pick(['{}', '{"room":"a"}', '{"rack":2,"room":"a"}', '{"room":"a","rack":2}', '{"ok":true,"n":-0.5}'])}`);
        if (random(3) === 0) fields.push(`"session_id":"${pick(['run-1', ' spaced ', '~'])}"`);
        for (let i = fields.length - 1; i > 0; i--) {
          const j = random(i + 1);
          [fields[i], fields[j]] = [fields[j], fields[i]];
        }
        return `{${fields.join(`${ws()},${ws()}`)}}`;
      }
      const fields = [
        `"metric":${ws()}"${pick(['temp', 'm', '', 'x'.repeat(257), 'é', 'a\\"b', 'm'])}"`,
        `"value":${ws()}${random(5) ? pick(numbers) : value()}`,
        `"source_id":${ws()}"${pick(['rig-1', 'rig-2', 'A.b_c:d-9', '-x', '', 'a b', 'rig-1'])}"`,
      ];
      if (random(2)) fields.push(`"timestamp":${ws()}${pick(numbers)}`);
      if (random(2)) fields.push(`"tags":${ws()}${tags()}`);
      if (random(3) === 0) fields.push(`"session_id":${ws()}"${pick(strings)}"`);
      if (random(20) === 0) fields.push(pick(['"extra":1', '"value":2', '"__proto__":{}']));
      if (random(20) === 0) fields.splice(random(fields.length), 1);
      for (let i = fields.length - 1; i > 0; i--) {
        const j = random(i + 1);
        [fields[i], fields[j]] = [fields[j], fields[i]];
      }
      return `{${ws()}${fields.join(`${ws()},${ws()}`)}${ws()}}`;
    };
    let taken = 0;
    for (let round = 0; round < 3_000; round++) {
      hostile = round % 2 === 1;
      const text = `${ws()}{${ws()}"points"${ws()}:${ws()}[${Array.from({ length: 1 + random(6) }, point).join(',')}]${ws()}}${ws()}${random(50) ? '' : pick(['x', ',', '}'])}`;
      if (agrees(text)) taken++;
    }
    // The generator makes enough plain bodies that the fast path's output is compared often.
    expect(taken).toBeGreaterThan(100);
  });
});
