/**
 * Grafana (deploy/grafana, docs/grafana.md), checked without running Grafana and without a
 * database: the provisioning files parse, refer to each other (data source uid, dashboard path,
 * the environment the data source reads) and agree with the compose file and the docs.
 * test/grafana.e2e-spec.ts runs the dashboard's queries against a migrated database.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  ROLE_FILE,
  compose,
  composeYaml,
  countPanel,
  dashboard,
  datasources,
  docs,
  fenced,
  grafanaSql,
  latestPanel,
  provider,
  rawSeriesPanel,
  read,
  rollupSeriesPanel,
  root,
  variable,
} from './support/grafana.js';

/** Every object in the JSON that has a `datasource` key, with where it is. */
function datasourceRefs(node: unknown, path = '$'): { path: string; ref: unknown }[] {
  if (Array.isArray(node)) return node.flatMap((item, index) => datasourceRefs(item, `${path}[${index}]`));
  if (node === null || typeof node !== 'object') return [];
  const object = node as Record<string, unknown>;
  const own = 'datasource' in object ? [{ path: `${path}.datasource`, ref: object.datasource }] : [];
  return [
    ...own,
    ...Object.entries(object).flatMap(([key, value]) => (key === 'datasource' ? [] : datasourceRefs(value, `${path}.${key}`))),
  ];
}

describe('the provisioning files', () => {
  const [datasource] = datasources.datasources;

  it('provision one PostgreSQL data source, credentials from the environment only', () => {
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources).toHaveLength(1);
    expect(datasource).toMatchObject({
      type: 'grafana-postgresql-datasource',
      uid: expect.stringMatching(/^[a-zA-Z0-9_-]{1,40}$/),
      jsonData: { postgresVersion: 1500, timescaledb: false },
    });
    const fromEnvironment = /^\$__env\{[A-Z0-9_]+\}$/;
    for (const value of [
      datasource.url,
      datasource.user,
      datasource.jsonData.database,
      datasource.jsonData.sslmode,
      datasource.secureJsonData.password,
    ]) {
      expect(value).toMatch(fromEnvironment);
    }
    expect(Object.keys(datasource.secureJsonData)).toEqual(['password']);
    expect(datasource).not.toHaveProperty('password');
  });

  it('read every environment variable they use from the compose service, which mounts them where the provider looks', () => {
    const used = [...JSON.stringify(datasources).matchAll(/\$__env\{([A-Z0-9_]+)\}/g)].map((match) => match[1]);
    expect(used.length).toBeGreaterThanOrEqual(5);
    const environment = compose.services.grafana.environment;
    for (const name of used) expect({ name, value: environment[name] }).toEqual({ name, value: expect.stringMatching(/\S/) });

    const mounts = new Map(
      compose.services.grafana.volumes
        .filter((volume) => volume.startsWith('./'))
        .map((volume) => {
          const [host, container] = volume.split(':');
          return [container, host] as const;
        }),
    );
    for (const host of mounts.values()) expect({ host, exists: existsSync(join(root, host)) }).toEqual({ host, exists: true });
    expect(mounts.get('/etc/grafana/provisioning/datasources')).toBe('./deploy/grafana/provisioning/datasources');
    expect(mounts.get('/etc/grafana/provisioning/dashboards')).toBe('./deploy/grafana/provisioning/dashboards');

    expect(provider.apiVersion).toBe(1);
    expect(provider.providers).toHaveLength(1);
    expect(provider.providers[0]).toMatchObject({ type: 'file', options: { path: expect.any(String) } });
    expect(mounts.get(provider.providers[0].options.path)).toBe('./deploy/grafana/dashboards');
  });

  it('give a dashboard that uses that data source everywhere, with org → source → metric variables and the four panels', () => {
    expect(dashboard).toMatchObject({ uid: expect.stringMatching(/^[a-zA-Z0-9_-]{1,40}$/), title: expect.any(String) });
    const refs = datasourceRefs(dashboard);
    expect(refs.length).toBeGreaterThanOrEqual(dashboard.panels.length * 2 + dashboard.templating.list.length);
    for (const { path, ref } of refs) expect({ path, ref }).toEqual({ path, ref: { type: datasource.type, uid: datasource.uid } });

    expect(dashboard.templating.list.map((candidate) => candidate.name)).toEqual(['org', 'source', 'metric']);
    for (const candidate of dashboard.templating.list) {
      expect(candidate).toMatchObject({ type: 'query', query: candidate.definition });
    }
    expect(variable('source').query).toContain('${org:sqlstring}');
    expect(variable('metric').query).toMatch(/\$\{org:sqlstring\}[\s\S]*\$\{source:sqlstring\}/);
    expect(variable('metric')).toMatchObject({ multi: true, includeAll: true });

    const raw = rawSeriesPanel().targets[0];
    expect(raw).toMatchObject({ format: 'time_series', rawQuery: true });
    expect(raw.rawSql).toContain('$__timeGroupAlias(time, $__interval)');
    expect(raw.rawSql).toMatch(/avg\(value\)[\s\S]*FROM telemetry[\s\S]*\$__timeFilter\(time\)/);
    const rollup = rollupSeriesPanel();
    expect(rollup.interval).toBe('1m');
    expect(rollup.targets[0].rawSql).toMatch(/sum\(r\.sum_num\) \/ nullif\(sum\(r\.n_num\), 0\)[\s\S]*FROM points_1m/);
    expect(latestPanel().targets[0].format).toBe('table');
    expect(countPanel().targets[0].format).toBe('table');

    const values = { org: ['default'], source: ['rig-1'], metric: ['temperature'] };
    const range = { from: new Date(0), to: new Date() };
    for (const target of dashboard.panels.flatMap((candidate) => candidate.targets)) {
      expect(target).toMatchObject({ rawQuery: true, editorMode: 'code' });
      expect(() => grafanaSql(target.rawSql, values, range)).not.toThrow();
    }
  });

  it('are shown in the docs as they are, and the README links the docs', () => {
    expect(fenced(docs, 'yaml').map((block) => block.trim())).toContain(composeYaml.trim());
    expect(fenced(docs, 'sql').map((block) => block.trim())).toContain(read(ROLE_FILE).trim());
    expect(read('README.md')).toContain('(docs/grafana.md)');
  });
});
