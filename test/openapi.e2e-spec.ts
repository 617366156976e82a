import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Platform } from './support/platform.js';

let platform: Platform;

beforeAll(async () => {
  platform = await Platform.start({ apps: ['gateway'] });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

/** Every HTTP endpoint of the contract (CONTRACT.md, "HTTP API"), with the scope it needs. */
const CONTRACT: Array<[string, string, string | null]> = [
  ['post', '/api/ingest', 'write'],
  ['post', '/api/sessions', 'write'],
  ['patch', '/api/sessions/{sessionId}', 'write'],
  ['get', '/api/sessions', 'read'],
  ['get', '/api/sessions/{sessionId}', 'read'],
  ['get', '/api/sessions/{sessionId}/export', 'read'],
  ['get', '/api/query', 'read'],
  ['get', '/api/sources', 'read'],
  ['delete', '/api/sources/{sourceId}', 'admin'],
  ['post', '/api/sources/pair', 'admin'],
  ['get', '/api/sources/pair', 'admin'],
  ['post', '/api/sources/pair/complete', null],
  ['get', '/api/auth/verify-key', null],
  ['post', '/api/auth/verify-device', null],
  ['post', '/api/keys', 'admin'],
  ['get', '/api/keys', 'admin'],
  ['delete', '/api/keys/{keyId}', 'admin'],
  ['get', '/api/config', null],
  ['get', '/setup', null],
  ['get', '/health', null],
  ['get', '/health/ready', null],
  ['get', '/metrics', null],
];

describe('GET /api/docs', () => {
  it('is an OpenAPI document generated from the code that covers every contract endpoint with its scope', async () => {
    const response = await platform.api('/api/docs', { key: null });
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<
        string,
        Record<
          string,
          {
            security?: Array<Record<string, string[]>>;
            responses?: Record<string, unknown>;
            requestBody?: { content: Record<string, { schema: { required?: string[] } }> };
          }
        >
      >;
      components: { securitySchemes: Record<string, { type: string; name: string; in: string }> };
    };
    expect(document.openapi).toMatch(/^3\./);
    expect(document.info).toMatchObject({ title: 'Plexus API', version: expect.any(String) });
    expect(document.components.securitySchemes['api-key']).toEqual({ type: 'apiKey', name: 'x-api-key', in: 'header' });
    for (const [method, path, scope] of CONTRACT) {
      const operation = document.paths[path]?.[method];
      expect({ method, path, documented: Boolean(operation) }).toEqual({ method, path, documented: true });
      if (scope) expect({ path, security: operation.security }).toEqual({ path, security: [{ 'api-key': [scope] }] });
      else expect({ path, security: operation.security }).toEqual({ path, security: undefined });
    }
    const ingestBody = document.paths['/api/ingest'].post.requestBody?.content['application/json'].schema;
    expect(ingestBody?.required).toEqual(['points']);
    // The audit listing pages by cursor (an addition to the contract).
    const audit = document.paths['/api/audit/commands'].get as unknown as {
      parameters: Array<{ name: string; in: string; required: boolean }>;
      responses: Record<string, { content: Record<string, { schema: { required: string[] } }> }>;
    };
    expect(audit.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'limit', in: 'query', required: false }),
        expect.objectContaining({ name: 'cursor', in: 'query', required: false }),
      ]),
    );
    expect(audit.responses['200'].content['application/json'].schema.required).toEqual(['commands', 'truncated', 'next_cursor']);
    // POST /api/keys answers 409 once the org has its most active keys.
    expect(document.paths['/api/keys'].post.responses?.['409']).toMatchObject({
      description: expect.stringMatching(/^CONFLICT: .*active .*keys/),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    });
  });
});
