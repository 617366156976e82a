import { describe, expect, it } from '@jest/globals';
import type { IncomingPoint } from '../messages/telemetry.js';
import { TelemetryDecodeError } from './telemetry-batch.js';
import { decodeTelemetryBatch, pointsOf, scanTelemetryBatch, SeriesIdentities } from './telemetry-decode.js';
import { encodeTelemetry } from './telemetry-envelope.js';

const RECEIVED_AT_US = 1_700_000_000_000_000;
const MIB = 1024 * 1024;

const points: IncomingPoint[] = [
  { metric: 'temp', value: 21.5, source_id: 'rig-1', timestamp: 1_700_000_002, tags: { room: 'a' } },
  { metric: 'temp', value: 'warming', source_id: 'rig-1', timestamp: 1_700_000_009, tags: { room: 'a' } },
  { metric: 'temp', value: -3, source_id: 'rig-1', timestamp: 1_700_000_001, tags: { room: 'a' } },
  { metric: 'temp', value: 40, source_id: 'rig-1', timestamp: 1_700_000_003, tags: { room: 'a' } },
  { metric: 'state', value: { open: true }, source_id: 'rig-2', timestamp: 5 },
];
const message = encodeTelemetry('org-1', RECEIVED_AT_US, points, MIB)[0];

describe('scanTelemetryBatch', () => {
  it('gives each series its identity and the span of its numbers (JSON values left out), without reading points into arrays', () => {
    const batch = scanTelemetryBatch(message, new SeriesIdentities());
    expect(batch).toMatchObject({ orgId: 'org-1', receivedAtUs: RECEIVED_AT_US });
    const [temp, state] = batch.series;
    expect(temp).toMatchObject({ sourceId: 'rig-1', metric: 'temp', sessionId: '', tags: '{"room":"a"}', count: 4, numbers: 3 });
    expect([temp.min, temp.max, temp.latestUs]).toEqual([-3, 40, 1_700_000_003_000_000]);
    expect(temp.points).toBeUndefined();
    expect(state).toMatchObject({ sourceId: 'rig-2', metric: 'state', count: 1, numbers: 0, min: Infinity, max: -Infinity });
  });

  it('pointsOf reads a scanned series exactly as decodeTelemetryBatch does', () => {
    const decoded = decodeTelemetryBatch(message, new SeriesIdentities());
    const scanned = scanTelemetryBatch(message, new SeriesIdentities());
    expect(scanned.series.map((series) => plain(pointsOf(series)))).toEqual(decoded.series.map((series) => plain(series)));
    expect(plain(decoded.series[0])).toEqual({
      timesUs: [1_700_000_002_000_000, 1_700_000_009_000_000, 1_700_000_001_000_000, 1_700_000_003_000_000],
      nums: [21.5, NaN, -3, 40],
      jsons: [null, '"warming"', null, null],
    });
  });

  it('a header once refused is refused again from the cache; a cache past its limit starts again and still checks', () => {
    const identities = new SeriesIdentities(2);
    const bad = Buffer.from(message);
    // The first series' source id is 'rig-1' right after the header; make it invalid UTF-8.
    const at = bad.indexOf(Buffer.from('rig-1'));
    bad[at] = 0xff;
    for (let i = 0; i < 2; i++)
      expect(() => scanTelemetryBatch(bad, identities)).toThrow(new TelemetryDecodeError('source_id is not valid UTF-8'));
    for (let i = 0; i < 5; i++) {
      const other = encodeTelemetry('org-1', RECEIVED_AT_US, [{ metric: `m${i}`, value: i, source_id: 's' }], MIB)[0];
      expect(scanTelemetryBatch(other, identities).series[0].metric).toBe(`m${i}`);
    }
    expect(() => scanTelemetryBatch(bad, identities)).toThrow(TelemetryDecodeError);
    expect(scanTelemetryBatch(message, identities).series).toHaveLength(2);
  });

  it('holds at most its byte bound of headers: large headers start it again, and are still checked', () => {
    const identities = new SeriesIdentities(10_000, 3000);
    const big = { a: 'x'.repeat(1000) };
    for (let i = 0; i < 10; i++) {
      const part = encodeTelemetry('org-1', RECEIVED_AT_US, [{ metric: `m${i}`, value: i, source_id: 's', tags: big }], MIB)[0];
      expect(scanTelemetryBatch(part, identities).series[0]).toMatchObject({ metric: `m${i}`, tags: JSON.stringify(big) });
      expect((identities as unknown as { bytes: number }).bytes).toBeLessThanOrEqual(3000);
    }
  });

  it('refuses a header whose strings break the schema, and a value that is not finite, whatever the cache holds', () => {
    const identities = new SeriesIdentities();
    const bad = Buffer.from(encodeTelemetry('org-1', RECEIVED_AT_US, [{ metric: 'temp', value: 1, source_id: 'rig-1' }], MIB)[0]);
    const at = bad.indexOf(Buffer.from('rig-1'));
    bad.write('ri\u0000-1', at, 'latin1');
    expect(() => scanTelemetryBatch(bad, identities)).toThrow(/invalid points: source_id/);
    const nan = Buffer.from(encodeTelemetry('org-1', RECEIVED_AT_US, [{ metric: 'temp', value: 1, source_id: 'rig-1' }], MIB)[0]);
    nan.writeDoubleLE(Infinity, nan.length - 8);
    expect(() => scanTelemetryBatch(nan, identities)).toThrow('series 0 point 0: value is not a finite number');
  });
});

function plain(series: { timesUs: ArrayLike<number>; nums: ArrayLike<number>; jsons: Array<string | null> | null }) {
  return { timesUs: Array.from(series.timesUs), nums: Array.from(series.nums), jsons: series.jsons };
}
