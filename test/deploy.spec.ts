import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');

interface Service {
  image?: string;
  ports?: string[];
  build?: unknown;
  command?: string[];
  volumes?: string[];
  healthcheck?: { test: unknown };
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
}

const APPS = ['gateway', 'ingest', 'realtime', 'pairing', 'alerts'] as const;
/** Each app's port setting and its default, which the compose file sets and the health check calls. */
const PORT_SETTINGS = {
  gateway: ['GATEWAY_PORT', '8080'],
  realtime: ['REALTIME_PORT', '8081'],
  ingest: ['INGEST_HTTP_PORT', '8082'],
  pairing: ['PAIRING_HTTP_PORT', '8083'],
  alerts: ['ALERTS_HTTP_PORT', '8084'],
} as const;

const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};

describe('docker-compose.yml (parsed here: this machine has no Docker engine)', () => {
  it('runs TimescaleDB and NATS with JetStream, each on a named volume with a health check', () => {
    const { timescaledb, nats } = compose.services;
    expect(timescaledb.image).toMatch(/^timescale\/timescaledb:/);
    expect(timescaledb.volumes?.[0]).toMatch(/^timescaledb-data:/);
    expect(nats.command).toEqual(expect.arrayContaining(['-js', '-sd', '/data']));
    expect(nats.volumes?.[0]).toMatch(/^nats-data:\/data$/);
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['timescaledb-data', 'nats-data']));
  });

  it('builds every app from the one Dockerfile and checks each one’s /health/ready', () => {
    for (const app of APPS) {
      const service = compose.services[app];
      expect(service.build).toBe('.');
      expect(service.environment?.APP).toBe(app);
      const [setting, port] = PORT_SETTINGS[app];
      expect({ app, port: service.environment?.[setting] }).toEqual({ app, port });
      expect(JSON.stringify(service.healthcheck?.test)).toContain(`:${port}/health/ready`);
      expect(service.depends_on?.nats.condition).toBe('service_healthy');
    }
    expect(Object.values(compose.services).every((service) => service.healthcheck)).toBe(true);
  });

  it('gives the apps that use PostgreSQL a DATABASE_URL to the timescaledb service, after it is healthy', () => {
    for (const app of ['ingest', 'pairing', 'alerts']) {
      const service = compose.services[app];
      expect(service.environment?.DATABASE_URL).toMatch(/@timescaledb:5432\/plexus$/);
      expect(service.depends_on?.timescaledb.condition).toBe('service_healthy');
    }
  });

  it('publishes no host port for ingest, pairing and alerts, so `--scale` runs several of each', () => {
    for (const app of ['ingest', 'pairing', 'alerts'])
      expect({ app, ports: compose.services[app].ports }).toEqual({ app, ports: undefined });
  });

  it('passes the alerts app its webhook signing secret from .env, empty (generated and kept in the database) by default', () => {
    expect(compose.services.alerts.environment?.PLEXUS_ALERTS_SECRET).toBe('${PLEXUS_ALERTS_SECRET:-}');
  });

  it('makes NATS ask for a user and password, which every app is given; NATS publishes no port', () => {
    const { nats } = compose.services;
    const flag = (name: string) => nats.command?.[nats.command.indexOf(name) + 1];
    expect(flag('--user')).toBeTruthy();
    expect(flag('--pass')).toBeTruthy();
    for (const app of APPS) {
      const environment = compose.services[app].environment ?? {};
      expect({ app, user: environment.NATS_USER, password: environment.NATS_PASSWORD }).toEqual({
        app,
        user: flag('--user'),
        password: flag('--pass'),
      });
    }
    expect(nats.ports).toBeUndefined();
  });
});
