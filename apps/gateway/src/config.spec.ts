import { describe, expect, it } from '@jest/globals';
import { readGatewayConfig } from './config.js';

describe('readGatewayConfig', () => {
  it('has the defaults of a single machine', () => {
    const config = readGatewayConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      publicUrl: 'http://127.0.0.1:8080',
      publicUrlConfigured: false,
      publicWsUrl: 'ws://127.0.0.1:8081',
      keyCacheTtlMs: 30_000,
      trustedProxies: [],
      pairingLimits: { failuresPerAddress: 10, windowSeconds: 600, failuresPerMinute: 100 },
      http: { requestTimeoutMs: 30_000, headersTimeoutMs: 15_000, keepAliveTimeoutMs: 72_000, idleTimeoutMs: 120_000, maxJsonDepth: 64 },
      queryConcurrencyPerKey: 4,
      streamStallTimeoutMs: 15_000,
      natsPrefix: 'plexus',
      logFormat: 'text',
    });
  });

  it('derives the public URLs from the ports, and the WebSocket scheme from PUBLIC_URL', () => {
    expect(readGatewayConfig({ GATEWAY_PORT: '9000', REALTIME_PORT: '9001' })).toMatchObject({
      publicUrl: 'http://127.0.0.1:9000',
      publicWsUrl: 'ws://127.0.0.1:9001',
    });
    expect(readGatewayConfig({ PUBLIC_URL: 'https://plexus.example.com/' })).toMatchObject({
      publicUrl: 'https://plexus.example.com',
      publicUrlConfigured: true,
      publicWsUrl: 'wss://plexus.example.com:8081',
    });
    expect(readGatewayConfig({ PUBLIC_WS_URL: 'wss://rt.example.com//' }).publicWsUrl).toBe('wss://rt.example.com');
  });

  it('caps the headers timeout at the request timeout, and refuses one longer', () => {
    expect(readGatewayConfig({ PLEXUS_HTTP_REQUEST_TIMEOUT_MS: '10000' }).http.headersTimeoutMs).toBe(10_000);
    expect(() => readGatewayConfig({ PLEXUS_HTTP_REQUEST_TIMEOUT_MS: '10000', PLEXUS_HTTP_HEADERS_TIMEOUT_MS: '20000' })).toThrow(
      'PLEXUS_HTTP_HEADERS_TIMEOUT_MS must not be longer than PLEXUS_HTTP_REQUEST_TIMEOUT_MS',
    );
  });

  it('reads trusted proxies as IPs and CIDRs, refusing anything else by name', () => {
    expect(readGatewayConfig({ PLEXUS_TRUSTED_PROXIES: ' 10.0.0.0/8, ::1 ,' }).trustedProxies).toEqual(['10.0.0.0/8', '::1']);
    for (const entry of ['example.com', '10.0.0.0/33', '::1/129', '10.0.0.1/8/8', '10.0.0.0/x']) {
      expect(() => readGatewayConfig({ PLEXUS_TRUSTED_PROXIES: entry })).toThrow(
        `PLEXUS_TRUSTED_PROXIES must be comma-separated IP addresses or CIDRs, got "${entry}"`,
      );
    }
  });

  it('names every bad variable of the gateway at once, shared ones included', () => {
    expect(() => readGatewayConfig({ GATEWAY_PORT: '80a', PUBLIC_URL: 'ftp://x', PLEXUS_LOG_LEVEL: 'loud' })).toThrow(
      [
        'PLEXUS_LOG_LEVEL must be error, warn, log, debug or verbose, got "loud"',
        'GATEWAY_PORT must be a whole number from 0 to 65535, got "80a"',
        'PUBLIC_URL must use http: or https:, got "ftp:"',
      ].join('\n'),
    );
  });
});
