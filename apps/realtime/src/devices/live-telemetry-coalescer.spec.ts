import { describe, expect, it } from '@jest/globals';
import { decodeLiveTelemetry, liveFramePrefix } from '#common';
import { LiveTelemetryCoalescer } from './live-telemetry-coalescer.js';

const frame = (sourceId: string, n: number) => `${liveFramePrefix(sourceId)}"type":"telemetry","points":[{"metric":"m","value":${n}}]}`;

function decoded(payload: Buffer) {
  const batch = decodeLiveTelemetry(payload);
  if (!batch.ok) throw new Error(batch.problem);
  return batch;
}

describe('LiveTelemetryCoalescer', () => {
  it('makes one message per org of everything added in a turn, frames in order', () => {
    const coalescer = new LiveTelemetryCoalescer(1000, 1024 * 1024);
    for (let n = 0; n < 100; n++) coalescer.add('org-a', `dev-${n % 3}`, frame(`dev-${n % 3}`, n), 10_000);
    coalescer.add('org-b', 'dev-0', frame('dev-0', 7), 10_000);
    const { batches, late } = coalescer.drain(10_001);
    expect(late).toBe(0);
    expect(batches.map((b) => [b.orgId, b.frames])).toEqual([
      ['org-a', 100],
      ['org-b', 1],
    ]);
    const a = decoded(batches[0].payload);
    expect(a.records.map((r) => JSON.parse(r.frame.toString()).points[0].value)).toEqual(Array.from({ length: 100 }, (_, n) => n));
    expect(coalescer.empty).toBe(true);
    expect(coalescer.drain(10_002).batches).toEqual([]);
  });

  it('drops frames older than the ceiling and puts their count in the org’s message', () => {
    const coalescer = new LiveTelemetryCoalescer(1000, 1024 * 1024);
    coalescer.add('org-a', 'dev', frame('dev', 1), 8000);
    coalescer.add('org-a', 'dev', frame('dev', 2), 9500);
    const { batches, late } = coalescer.drain(10_000);
    expect(late).toBe(1);
    const batch = decoded(batches[0].payload);
    expect(batch.dropped).toBe(1);
    expect(batch.records).toHaveLength(1);
  });

  it('still tells an org whose every frame was late', () => {
    const coalescer = new LiveTelemetryCoalescer(1000, 1024 * 1024);
    coalescer.add('org-a', 'dev', frame('dev', 1), 0);
    const { batches } = coalescer.drain(10_000);
    expect(batches).toHaveLength(1);
    expect(decoded(batches[0].payload)).toMatchObject({ dropped: 1, records: [] });
  });

  it('splits an org’s turn under the broker’s payload bound and drops a frame that fits no message', () => {
    const coalescer = new LiveTelemetryCoalescer(1000, 4096);
    for (let n = 0; n < 100; n++) coalescer.add('org-a', 'dev', frame('dev', n), 0);
    coalescer.add('org-a', 'dev', `${liveFramePrefix('dev')}"type":"telemetry","pad":"${'x'.repeat(5000)}"}`, 0);
    const { batches, oversized } = coalescer.drain(1);
    expect(oversized).toBe(1);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) expect(batch.payload.length).toBeLessThanOrEqual(4096);
    expect(batches.reduce((sum, b) => sum + decoded(b.payload).records.length, 0)).toBe(100);
  });
});
