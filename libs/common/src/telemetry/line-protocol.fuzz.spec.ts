import { describe, expect, it } from '@jest/globals';
import type { IncomingPoint } from '../messages/telemetry.js';
import { parseLineProtocol, type LineProtocolOptions, type ParsedLines, type Precision } from './line-protocol.js';

/*
 * Property tests with a seeded generator. Set PLEXUS_FUZZ_SEED to replay a run; the seed is in
 * every failure message.
 */
const SEED = process.env.PLEXUS_FUZZ_SEED !== undefined ? Number(process.env.PLEXUS_FUZZ_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;

/** mulberry32: small, fast, good enough to drive a fuzzer. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs a property; on failure, says which seed (and case) to replay. */
function withSeed(name: string, body: (random: () => number) => void): void {
  try {
    body(rng(SEED ^ hash(name)));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${name} failed with PLEXUS_FUZZ_SEED=${SEED}\n${reason}`, { cause: error });
  }
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

const PRECISIONS: Precision[] = ['ns', 'us', 'ms', 's'];
const TIME_BOUND: Record<Precision, bigint> = {
  ns: 9223372036854775806n,
  us: 9223372036854775n,
  ms: 9223372036854n,
  s: 9223372036n,
};
const NS_PER_UNIT: Record<Precision, bigint> = { ns: 1n, us: 1000n, ms: 1_000_000n, s: 1_000_000_000n };
const TRUE_SPELLINGS = ['t', 'T', 'true', 'True', 'TRUE'];
const FALSE_SPELLINGS = ['f', 'F', 'false', 'False', 'FALSE'];
/** Characters names are drawn from: plain ones, every special character, some non-ASCII. */
const NAME_CHARS = [...'abcxyz019_-.:/', ' ', ',', '=', '\\', '"', "'", '#', '\t', 'é', '°', '🍭', '中', '\u007f'];
const STRING_CHARS = [...NAME_CHARS, '\r', '\\', '"', 'n', '\u0001'];

interface Field {
  key: string;
  /** What the test serializes. */
  text: string;
  expected: number | string | boolean;
}

interface Line {
  measurement: string;
  tags: [string, string][];
  fields: Field[];
  timestamp?: bigint;
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function int(random: () => number, max: number): number {
  return Math.floor(random() * (max + 1));
}

/** A name that line protocol can carry: non-empty, no newline, not ending in a backslash. */
function name(random: () => number, avoid: (text: string) => boolean = () => false): string {
  for (;;) {
    const length = 1 + int(random, random() < 0.8 ? 6 : 30);
    let text = '';
    for (let i = 0; i < length; i++) text += random() < 0.6 ? pick(random, NAME_CHARS.slice(0, 14)) : pick(random, NAME_CHARS);
    if (text.endsWith('\\') || avoid(text)) continue;
    return text;
  }
}

function randomBigInt(random: () => number, bits: number): bigint {
  let value = 0n;
  for (let b = 0; b < bits; b += 16) value = (value << 16n) | BigInt(int(random, 0xffff));
  return value & ((1n << BigInt(bits)) - 1n);
}

function field(random: () => number, key: string): Field {
  const kind = int(random, 4);
  if (kind === 0) {
    // Floats in several spellings, all of which Number() reads back exactly.
    const magnitude = pick(random, [1, 100, 1e6, 1e-6, 1e300, 1e-300, 2 ** 53]);
    let v = (random() - 0.5) * 2 * magnitude;
    if (random() < 0.3) v = Math.round(v);
    if (Object.is(v, -0)) v = 0;
    const text = pick(random, [String(v), v.toExponential(), String(v).toUpperCase()]);
    return { key, text, expected: Number(text) };
  }
  if (kind === 1) {
    const small = random() < 0.7;
    let v = small ? BigInt(int(random, 2 ** 31)) : randomBigInt(random, 63);
    if (random() < 0.5) v = -v - (small ? 0n : BigInt(int(random, 1)));
    return { key, text: `${v}i`, expected: Number(v) };
  }
  if (kind === 2) {
    const v = random() < 0.7 ? BigInt(int(random, 2 ** 31)) : randomBigInt(random, 64);
    return { key, text: `${v}u`, expected: Number(v) };
  }
  if (kind === 3) {
    const v = random() < 0.5;
    return { key, text: pick(random, v ? TRUE_SPELLINGS : FALSE_SPELLINGS), expected: v };
  }
  let v = '';
  const length = int(random, random() < 0.9 ? 12 : 200);
  for (let i = 0; i < length; i++) v += pick(random, STRING_CHARS);
  return { key, text: `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`, expected: v };
}

function randomLine(random: () => number, precision: Precision): Line {
  // A leading '#' would make a comment, and leading whitespace is skipped: InfluxDB does both.
  const measurement = name(random, (text) => text.startsWith('#') || text.startsWith('\t') || text.startsWith(' '));
  const tagKeys = new Set<string>();
  const tags: [string, string][] = [];
  for (let t = int(random, 4); t > 0; t--) {
    const key = random() < 0.15 ? pick(random, ['host', 'source', 'device']) : name(random);
    if (tagKeys.has(key)) continue;
    tagKeys.add(key);
    tags.push([key, name(random)]);
  }
  const fieldKeys = new Set<string>();
  const fields: Field[] = [];
  for (let f = 1 + int(random, 3); f > 0; f--) {
    const key = random() < 0.15 ? 'value' : name(random);
    if (fieldKeys.has(key)) continue;
    fieldKeys.add(key);
    fields.push(field(random, key));
  }
  let timestamp: bigint | undefined;
  if (random() < 0.8) {
    const bound = TIME_BOUND[precision];
    timestamp =
      random() < 0.7
        ? (BigInt(1_700_000_000 + int(random, 1e8)) * 1_000_000_000n + BigInt(int(random, 1e9 - 1))) / NS_PER_UNIT[precision]
        : randomBigInt(random, 64) % (bound + 1n);
    if (random() < 0.2) timestamp = -timestamp;
  }
  return { measurement, tags, fields, timestamp };
}

/** The serializer under test's mirror: escapes as the reference says. */
function serialize(line: Line, random: () => number): string {
  const escapeMeasurement = (text: string) => text.replace(/[, ]/g, (c) => `\\${c}`);
  const escapeKey = (text: string) => text.replace(/[, =]/g, (c) => `\\${c}`);
  let out = escapeMeasurement(line.measurement);
  for (const [key, value] of line.tags) out += `,${escapeKey(key)}=${escapeKey(value)}`;
  out += ' '.repeat(1 + (random() < 0.1 ? 2 : 0));
  out += line.fields.map((f) => `${escapeKey(f.key)}=${f.text}`).join(',');
  if (line.timestamp !== undefined) out += ` ${line.timestamp}`;
  if (random() < 0.1) out += '  ';
  return out;
}

/** The mapping the parser promises, written the slow, obvious way. */
function expectedPoints(line: Line, options: LineProtocolOptions): IncomingPoint[] {
  const tags = new Map(line.tags);
  let sourceId = line.measurement;
  const candidates = options.sourceTag !== undefined ? [options.sourceTag] : ['host', 'source'];
  for (const candidate of candidates) {
    const value = tags.get(candidate);
    if (value !== undefined) {
      sourceId = value;
      tags.delete(candidate);
      break;
    }
  }
  let timestamp: number | undefined;
  if (line.timestamp !== undefined) {
    const ns = line.timestamp * NS_PER_UNIT[options.precision];
    let micros = ns / 1000n;
    if (ns < 0n && micros * 1000n !== ns) micros -= 1n; // floor, not truncation toward zero
    timestamp = Number(micros) / 1e6;
    if (Object.is(timestamp, -0)) timestamp = 0;
  }
  return line.fields.map((f) => {
    const point: IncomingPoint = {
      metric: f.key === 'value' ? line.measurement : `${line.measurement}.${f.key}`,
      value: f.expected,
      source_id: sourceId,
    };
    if (tags.size > 0) point.tags = Object.fromEntries(tags);
    if (timestamp !== undefined) point.timestamp = timestamp;
    if (options.sessionId !== undefined) point.session_id = options.sessionId;
    return point;
  });
}

function randomOptions(random: () => number): LineProtocolOptions {
  const options: LineProtocolOptions = { precision: pick(random, PRECISIONS) };
  if (random() < 0.3) options.sourceTag = 'device';
  if (random() < 0.3) options.sessionId = 'bucket';
  return options;
}

/** What must hold for any body: no throw, errors within range, well-formed points. */
function checkInvariants(body: string, options: LineProtocolOptions): ParsedLines {
  let result: ParsedLines;
  try {
    result = parseLineProtocol(body, options);
  } catch (error) {
    throw new Error(`threw ${String(error)} on ${JSON.stringify(body.slice(0, 300))}`, { cause: error });
  }
  const physicalLines = body.split('\n').length;
  const fail = (why: string) => {
    throw new Error(`${why} on ${JSON.stringify(body.slice(0, 300))}`);
  };
  if (result.lines > physicalLines) fail(`lines ${result.lines} > ${physicalLines}`);
  if (result.errors.length > result.lines) fail('more errors than lines');
  let previous = 0;
  for (const e of result.errors) {
    if (!Number.isInteger(e.line) || e.line < 1 || e.line > physicalLines || e.line <= previous)
      fail(`error line ${e.line} out of range or order`);
    previous = e.line;
    if (typeof e.message !== 'string' || e.message.length === 0 || e.message.startsWith('internal')) fail(`bad message ${e.message}`);
  }
  for (const p of result.points) {
    if (typeof p.metric !== 'string' || p.metric.length === 0) fail('empty metric');
    if (typeof p.source_id !== 'string' || p.source_id.length === 0) fail('empty source_id');
    const type = typeof p.value;
    if (!(type === 'string' || type === 'boolean' || (type === 'number' && Number.isFinite(p.value)))) fail(`value ${String(p.value)}`);
    if (p.timestamp !== undefined && !Number.isFinite(p.timestamp)) fail('timestamp not finite');
    if (p.tags !== undefined) {
      const entries = Object.entries(p.tags);
      if (entries.length === 0) fail('empty tags object');
      for (const [key, value] of entries) if (key.length === 0 || typeof value !== 'string' || value.length === 0) fail('bad tag');
    }
  }
  return result;
}

describe('parseLineProtocol fuzz', () => {
  it('round-trips 20,000 random valid lines (names and values with every escape)', () => {
    withSeed('round-trip', (random) => {
      for (let body = 0; body < 200; body++) {
        const options = randomOptions(random);
        const lines: Line[] = [];
        const text: string[] = [];
        for (let l = 0; l < 100; l++) {
          const line = randomLine(random, options.precision);
          lines.push(line);
          if (random() < 0.05) text.push(pick(random, ['', '# a comment', '   ', '\t# indented']));
          text.push(serialize(line, random));
        }
        const source = text.join(random() < 0.5 ? '\n' : '\r\n');
        const result = parseLineProtocol(source, options);
        if (result.errors.length > 0) {
          const e = result.errors[0];
          throw new Error(`unexpected error ${JSON.stringify(e)} on line ${JSON.stringify(source.split('\n')[e.line - 1])}`);
        }
        expect(result.lines).toBe(100);
        expect(result.points).toEqual(lines.flatMap((line) => expectedPoints(line, options)));
      }
    });
  });

  it('survives 20,000 mutated and random bodies: never throws, errors in range, points well formed', () => {
    const SPECIAL = [
      '"',
      '\\',
      ',',
      ' ',
      '=',
      '\n',
      '\r\n',
      '#',
      '\u0000',
      '\uD800',
      '\uDC00',
      'i',
      'u',
      'e',
      '-',
      '.',
      't',
      '1e400',
      '99999999999999999999999',
      '-'.repeat(3),
    ];
    withSeed('mutations', (random) => {
      for (let c = 0; c < 20_000; c++) {
        const options = randomOptions(random);
        let body: string;
        if (random() < 0.8) {
          const count = 1 + int(random, 4);
          const lines: string[] = [];
          for (let l = 0; l < count; l++) lines.push(serialize(randomLine(random, options.precision), random));
          body = lines.join('\n');
          for (let m = 1 + int(random, 3); m > 0; m--) {
            const at = int(random, body.length);
            switch (int(random, 4)) {
              case 0: // flip a character
                body = body.slice(0, at) + String.fromCharCode(int(random, 0xffff)) + body.slice(at + 1);
                break;
              case 1: // truncate
                body = body.slice(0, at);
                break;
              case 2: // insert something special
                body = body.slice(0, at) + pick(random, SPECIAL) + body.slice(at);
                break;
              case 3: // delete a run
                body = body.slice(0, at) + body.slice(at + 1 + int(random, 5));
                break;
              default: // duplicate a run
                body = body.slice(0, at) + body.slice(at, at + 10) + body.slice(at);
            }
          }
        } else {
          const length = int(random, 80);
          body = '';
          for (let i = 0; i < length; i++) body += random() < 0.5 ? pick(random, SPECIAL) : pick(random, NAME_CHARS);
        }
        const result = checkInvariants(body, options);
        // Lines are independent: the body parses as its lines parse one by one.
        if (c % 10 === 0) {
          const oneByOne = body.split('\n').map((line) => parseLineProtocol(line, options));
          expect(result.points).toEqual(oneByOne.flatMap((r) => r.points));
          expect(result.errors.map((e) => e.message)).toEqual(oneByOne.flatMap((r) => r.errors.map((e) => e.message)));
        }
      }
    });
  });

  describe('bounded work on 5 MiB bodies (jest timeout is the bound)', () => {
    const MIB5 = 5 * 1024 * 1024;

    it('one line of distinct fields', () => {
      let line = 'm ';
      for (let i = 0; line.length < MIB5; i++) line += `f${i}=${i},`;
      line += 'last=1';
      const result = checkInvariants(line, { precision: 'ns' });
      expect(result.errors).toEqual([]);
      expect(result.points.length).toBeGreaterThan(300_000);
    });

    it('one line of the same field repeated, and of many tags', () => {
      const repeated = `m ${'f=1,'.repeat(MIB5 / 4)}f=2`;
      expect(checkInvariants(repeated, { precision: 'ns' }).points).toEqual([{ metric: 'm.f', value: 2, source_id: 'm' }]);
      let tags = 'm';
      for (let i = 0; tags.length < MIB5; i++) tags += `,t${i}=v`;
      const result = checkInvariants(`${tags} f=1`, { precision: 'ns' });
      expect(Object.keys(result.points[0].tags!).length).toBeGreaterThan(500_000);
    });

    it('one line of backslashes, of quotes, of an unclosed string, and a huge number', () => {
      for (const body of [
        `m${'\\'.repeat(MIB5)}`,
        `m f="${'\\"'.repeat(MIB5 / 2)}`,
        `m f="${'x'.repeat(MIB5)}`,
        `m f=${'9'.repeat(MIB5)}`,
        `m f=${'9'.repeat(MIB5)}i`,
        `m f=1 ${'9'.repeat(MIB5)}`,
        `m f="${'"'.repeat(MIB5)}`,
      ]) {
        const result = checkInvariants(body, { precision: 'ns' });
        expect(result.lines).toBe(1);
      }
    });

    it('200,000 short lines, good and bad, and 200,000 unclosed strings', () => {
      const good = Array.from(
        { length: 200_000 },
        (_, i) => `cpu,host=h${i % 100} u=${i}.5,s=${i}i ${1_700_000_000_000_000_000n + BigInt(i)}`,
      ).join('\n');
      expect(good.length).toBeGreaterThan(MIB5 * 0.9);
      const result = checkInvariants(good, { precision: 'ns' });
      expect(result.errors).toEqual([]);
      expect(result.points).toHaveLength(400_000);

      const unclosed = 'm f="x\n'.repeat(200_000);
      const bad = checkInvariants(unclosed, { precision: 'ns' });
      expect(bad.errors).toHaveLength(200_000);
      expect(bad.errors[199_999].line).toBe(200_000);
    });
  });
});
