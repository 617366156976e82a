import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';

let platform: Platform;

beforeAll(async () => {
  platform = await Platform.start({
    apps: ['pairing', 'ingest', 'gateway'],
    env: { PLEXUS_LOG_FORMAT: 'json', PLEXUS_LOG_LEVEL: 'debug' },
  });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

function jsonLines(app: string): Array<Record<string, any>> {
  return platform.logs
    .filter((line) => line.startsWith(`${app} | {`))
    .map((line) => JSON.parse(line.slice(app.length + 3)) as Record<string, any>);
}

describe('logs', () => {
  it('are JSON lines, and one correlation id follows an ingest request from the gateway through NATS to the ingest app', async () => {
    const response = await platform.ingest([{ metric: 'traced', value: 1, timestamp: 1700000000, source_id: 'trace-1' }], {
      headers: { 'x-correlation-id': 'trace-abc-123' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-correlation-id')).toBe('trace-abc-123');
    const generated = await platform.ingest([{ metric: 'traced', value: 2, timestamp: 1700000001, source_id: 'trace-1' }]);
    expect(generated.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);

    const gatewayLine = await waitFor('the gateway to log the request', () =>
      jsonLines('gateway').find((line) => line.message?.correlation_id === 'trace-abc-123'),
    );
    expect(gatewayLine).toMatchObject({ level: 'debug', message: { message: 'ingest accepted', points: 1 } });
    const ingestLine = await waitFor('the ingest app to log the batch', () =>
      jsonLines('ingest').find((line) => (line.message?.correlation_ids ?? []).includes('trace-abc-123')),
    );
    expect(ingestLine).toMatchObject({ level: 'debug', message: { message: 'batch committed' } });
    for (const app of ['gateway', 'ingest', 'pairing']) {
      const lines = platform.logs.filter(
        (line) => line.startsWith(`${app} | `) && !line.includes('ExperimentalWarning') && !line.includes('trace-warnings'),
      );
      expect(lines.length).toBeGreaterThan(3);
      for (const line of lines) expect(() => JSON.parse(line.slice(app.length + 3))).not.toThrow();
    }
  });
});
