import { describe, expect, it } from '@jest/globals';
import { decodeLiveTelemetry, encodeLiveTelemetry, liveFramePrefix } from './live-telemetry.js';

function record(sourceId: string, body: string, arrivedAt = 1_700_000_000_000) {
  const frame = `${liveFramePrefix(sourceId)}${body}`;
  return { sourceId, arrivedAt, frame, frameBytes: Buffer.byteLength(frame) };
}

const good = [
  record('lab-1', '"type":"telemetry","points":[{"metric":"t","value":"é😀","timestamp":1}]}'),
  record('lab.2', '"type":"telemetry","points":[]}', 1_700_000_000_500),
];

describe('live telemetry batch', () => {
  it('round-trips frames as bytes, with times and the sender’s drop count', () => {
    const decoded = decodeLiveTelemetry(encodeLiveTelemetry(1_700_000_000_900, 7, good));
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.sentAt).toBe(1_700_000_000_900);
    expect(decoded.dropped).toBe(7);
    expect(decoded.records.map((r) => [r.sourceId, r.arrivedAt, r.frame.toString('utf8')])).toEqual(
      good.map((r) => [r.sourceId, r.arrivedAt, r.frame]),
    );
    expect(JSON.parse(decoded.records[0].frame.toString('utf8'))).toMatchObject({ source_id: 'lab-1', type: 'telemetry' });
  });

  it('decodes an empty batch (only a drop count)', () => {
    expect(decodeLiveTelemetry(encodeLiveTelemetry(1, 3, []))).toEqual({ ok: true, sentAt: 1, dropped: 3, records: [] });
  });

  it('decodes a batch that is a view into a larger buffer (as NATS hands it over)', () => {
    const encoded = encodeLiveTelemetry(5, 0, good);
    const larger = new Uint8Array(encoded.length + 10);
    larger.set(encoded, 5);
    const decoded = decodeLiveTelemetry(larger.subarray(5, 5 + encoded.length));
    expect(decoded.ok && decoded.records.length).toBe(2);
  });
});

describe('live telemetry batch, hostile', () => {
  const encoded = encodeLiveTelemetry(5, 0, good);
  const cases: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array()],
    ['JSON instead', Buffer.from('{"type":"telemetry","points":[]}')],
    ['cut short', encoded.subarray(0, encoded.length - 3)],
    ['trailing bytes', Buffer.concat([encoded, Buffer.from('xx')])],
    [
      'a count far larger than the message',
      (() => {
        const b = Buffer.from(encoded);
        b.writeUInt32LE(0xffffffff, 16);
        return b;
      })(),
    ],
    [
      'a frame length past the end',
      (() => {
        const b = Buffer.from(encoded);
        b.writeUInt32LE(0x7fffffff, 20 + 1 + 5 + 8);
        return b;
      })(),
    ],
    [
      'a NaN arrival time',
      (() => {
        const b = Buffer.from(encoded);
        b.writeDoubleLE(Number.NaN, 20 + 1 + 5);
        return b;
      })(),
    ],
    [
      'an infinite sent_at',
      (() => {
        const b = Buffer.from(encoded);
        b.writeDoubleLE(Number.POSITIVE_INFINITY, 4);
        return b;
      })(),
    ],
    ['a source id that is not one', encodeLiveTelemetry(5, 0, [{ ...record('x', '"type":"telemetry"}'), sourceId: '..' }])],
    ['a NUL in the source id', encodeLiveTelemetry(5, 0, [{ ...record('x', '"type":"telemetry"}'), sourceId: 'a\u0000' }])],
    ['a frame naming another source', encodeLiveTelemetry(5, 0, [{ ...record('other', '"type":"telemetry"}'), sourceId: 'lab-1' }])],
    ['a frame that does not close', encodeLiveTelemetry(5, 0, [record('lab-1', '"type":"telemetry"')])],
    ['a frame of bare prefix', encodeLiveTelemetry(5, 0, [record('lab-1', '')])],
    [
      'invalid UTF-8 in a frame',
      (() => {
        const r = record('lab-1', '"type":"telemetry","v":"ab"}');
        const b = encodeLiveTelemetry(5, 0, [r]);
        b[b.length - 4] = 0xff;
        return b;
      })(),
    ],
    [
      'a lone surrogate half in a frame (CESU bytes)',
      (() => {
        const r = record('lab-1', '"type":"telemetry","v":"abc"}');
        const b = encodeLiveTelemetry(5, 0, [r]);
        b.set([0xed, 0xa0, 0x80], b.length - 5);
        return b;
      })(),
    ],
  ];
  it.each(cases)('refuses %s whole, naming the problem', (_, data) => {
    const decoded = decodeLiveTelemetry(data);
    expect(decoded.ok).toBe(false);
    expect(decoded.ok ? '' : decoded.problem).toMatch(/\w/);
  });
});
