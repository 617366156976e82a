import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { decodeTelemetry, encodeTelemetry } from './telemetry-envelope.js';

const points = (n: number, size: number) =>
  Array.from({ length: n }, (_, i) => ({ metric: 'm', value: randomBytes(size).toString('hex'), timestamp: i, source_id: 's' }));

async function roundTrip(parts: Awaited<ReturnType<typeof encodeTelemetry>>) {
  return Promise.all(
    parts.map(async (part) =>
      JSON.parse(await decodeTelemetry(typeof part.body === 'string' ? Buffer.from(part.body) : part.body, part.gzip ? 'gzip' : undefined)),
    ),
  );
}

describe('encodeTelemetry', () => {
  it('forwards a small request as one message holding the raw body untouched', async () => {
    const raw = '{ "points": [ {"metric":"m","value":1,"source_id":"s"} ], "extra": true }';
    const parts = await encodeTelemetry('org', 42, raw, [{ metric: 'm', value: 1, source_id: 's' }], 1024 * 1024);
    expect(parts).toEqual([{ body: `{"org_id":"org","received_at_us":42,"request":${raw}}`, gzip: false }]);
  });

  it('compresses a request over the max payload when that is enough', async () => {
    const body = { points: Array.from({ length: 2000 }, () => ({ metric: 'm', value: 'x'.repeat(100), source_id: 's' })) };
    const raw = JSON.stringify(body);
    const parts = await encodeTelemetry('org', 42, raw, body.points, 64 * 1024);
    expect(parts).toHaveLength(1);
    expect(parts[0].gzip).toBe(true);
    expect((await roundTrip(parts))[0]).toEqual({ org_id: 'org', received_at_us: 42, request: body });
  });

  it('splits an incompressible request by points, every part within the limit and sharing received_at_us', async () => {
    const all = points(400, 200);
    const parts = await encodeTelemetry('org', 7, JSON.stringify({ points: all }), all, 64 * 1024);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(Buffer.byteLength(part.body)).toBeLessThanOrEqual(64 * 1024 - 4 * 1024);
    const decoded = await roundTrip(parts);
    expect(decoded.every((message) => message.received_at_us === 7 && message.org_id === 'org')).toBe(true);
    expect(decoded.flatMap((message) => message.request.points)).toEqual(all);
  });
});
