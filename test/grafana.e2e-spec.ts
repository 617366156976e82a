/**
 * Grafana's dashboard (deploy/grafana) against a database migrated by the platform, with points
 * ingested over HTTP (tags, a session, a second org, a string value, a point outside the range):
 * - every SQL query of the dashboard, with its template variables and macros expanded as Grafana
 *   expands them (test/support/grafana.ts), run as the role deploy/grafana/readonly-role.sql
 *   creates, returns the expected rows;
 * - that role reads telemetry, series and points_1m and is refused everything else, and the
 *   per-org role of deploy/grafana/org-role.sql sees its own org only.
 * Roles are cluster-wide: each run names its own and drops them at the end.
 * test/grafana-files.spec.ts checks the provisioning files themselves, without a database.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import {
  ORG_ROLE_FILE,
  type Panel,
  ROLE_FILE,
  type TimeRange,
  type Values,
  countPanel,
  docs,
  fenced,
  grafanaSql,
  latestPanel,
  rawSeriesPanel,
  read,
  rollupSeriesPanel,
  variable,
} from './support/grafana.js';
import { PG_ROOT, Platform } from './support/platform.js';

describe('the dashboard against a database migrated by the platform', () => {
  let platform: Platform;
  let otherOrg: string;
  let t0: number; // seconds, on a whole 5 minutes
  let range: TimeRange;
  const roles: string[] = [];
  const clients: pg.Client[] = [];
  let grafana: pg.Client; // as the role of readonly-role.sql
  let orgGrafana: pg.Client; // as the role of org-role.sql, for otherOrg

  const at = (offsetSeconds: number): number => t0 + offsetSeconds;

  async function connectAs(role: string): Promise<pg.Client> {
    const password = randomBytes(16).toString('hex');
    await platform.db.query(`ALTER ROLE ${pg.escapeIdentifier(role)} PASSWORD ${pg.escapeLiteral(password)}`);
    const url = new URL(PG_ROOT);
    const client = new pg.Client({ host: url.hostname, port: Number(url.port || 5432), user: role, password, database: platform.database });
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  }

  async function rows(client: pg.Client, sql: string, values: Values, interval = '1m'): Promise<Record<string, any>[]> {
    const expanded = grafanaSql(sql, values, range, interval);
    try {
      return (await client.query(expanded)).rows;
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- SQL as Grafana sends it:\n${expanded}`, { cause: error });
    }
  }

  async function runPanel(client: pg.Client, which: Panel, values: Values, interval = '1m'): Promise<Record<string, any>[]> {
    expect(which.targets).toHaveLength(1);
    return rows(client, which.targets[0].rawSql, values, interval);
  }

  async function variableValues(client: pg.Client, name: string, values: Values): Promise<string[]> {
    return (await rows(client, variable(name).query, values)).map((row) => String(Object.values(row)[0]));
  }

  /** [time (s), metric, value] of a time series result, in order. */
  const series = (result: Record<string, any>[]): [number, string, number | null][] =>
    result.map((row) => [Number(row.time), row.metric, row.value === null ? null : Number(row.value)]);

  async function refused(client: pg.Client, sql: string): Promise<string> {
    try {
      await client.query(sql);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      return (error as { code?: string }).code ?? String(error);
    }
    await client.query('ROLLBACK').catch(() => undefined);
    return 'allowed';
  }

  beforeAll(async () => {
    platform = await Platform.start({ apps: ['pairing', 'ingest', 'gateway'] });
    otherOrg = `grafana-${platform.prefix}`;
    const otherKey = await platform.createKey(['write'], otherOrg);

    t0 = Math.floor(Date.now() / 300_000) * 300 - 600;
    range = { from: new Date(at(-60) * 1000), to: new Date(at(180) * 1000) };
    const lab = { tags: { room: 'lab' }, session_id: 'run-1' };
    const point = (source_id: string, metric: string, offset: number, value: unknown, extra = {}) => ({
      source_id,
      metric,
      timestamp: at(offset),
      value,
      ...extra,
    });
    const accepted = [
      await platform.ingest([
        point('rig-1', 'temperature', 0, 20, lab),
        point('rig-1', 'temperature', 20, 22, lab),
        point('rig-1', 'temperature', 40, 24, lab),
        point('rig-1', 'temperature', 60, 30, lab),
        point('rig-1', 'temperature', 80, 32, lab),
        point('rig-1', 'temperature', -3600, 1000, lab), // outside the range
        point('rig-1', 'pressure', 10, 100),
        point('rig-1', 'pressure', 70, 110),
        point('rig-1', 'status', 30, 'ok'),
        point('rig-1', 'status', 90, 'done'),
        point('rig-2', 'temperature', 5, 99),
      ]),
      await platform.ingest([point('rig-1', 'temperature', 15, -5), point('rig-1', 'temperature', 75, -7)], { key: otherKey }),
    ];
    for (const response of accepted)
      expect({ status: response.status, body: await response.json() }).toMatchObject({ body: { success: true } });
    await platform.drained();

    const readonlyRole = `plexus_grafana_${platform.prefix}`;
    roles.push(readonlyRole, `plexus_grafana_${otherOrg}`);
    await platform.db.query(read(ROLE_FILE).replace(/\bplexus_grafana\b/g, readonlyRole));
    const orgScript = read(ORG_ROLE_FILE);
    expect(orgScript).toMatch(/^SET plexus\.grafana_org = '[^']*';$/m);
    await platform.db.query(
      orgScript.replace(/^SET plexus\.grafana_org = '[^']*';$/m, `SET plexus.grafana_org = ${pg.escapeLiteral(otherOrg)};`),
    );
    grafana = await connectAs(readonlyRole);
    orgGrafana = await connectAs(`plexus_grafana_${otherOrg}`);
  }, 180_000);

  afterAll(async () => {
    for (const client of clients) await client.end().catch(() => undefined);
    if (platform) {
      for (const role of roles) await platform.db.query(`DROP OWNED BY ${pg.escapeIdentifier(role)}`).catch(() => undefined);
      await platform.stop();
    }
    const admin = new pg.Client({ connectionString: `${PG_ROOT}/postgres` });
    await admin.connect();
    try {
      for (const role of roles) await admin.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`);
    } finally {
      await admin.end();
    }
  });

  it('readonly-role.sql: the role reads telemetry, series and points_1m, and is refused the rest', async () => {
    expect(Number((await grafana.query('SELECT count(*) FROM telemetry')).rows[0].count)).toBe(13);
    expect(Number((await grafana.query(`SELECT count(*) FROM series WHERE org_id = 'default'`)).rows[0].count)).toBe(4);
    expect(Number((await grafana.query('SELECT sum(n) FROM points_1m')).rows[0].sum)).toBe(13);

    // Refused by the read-only default…
    expect(await refused(grafana, `INSERT INTO points (series_id, time, value_num) VALUES (1, now(), 1)`)).toMatch(/^(25006|42501)$/);
    // …and, with the default switched off (which the role may do), by the grants.
    const readWrite = (sql: string) => refused(grafana, `BEGIN READ WRITE; ${sql}`);
    expect(await readWrite(`INSERT INTO points (series_id, time, value_num) VALUES (1, now(), 1)`)).toBe('42501');
    expect(await readWrite(`UPDATE series SET metric = 'x'`)).toBe('42501');
    expect(await readWrite(`DELETE FROM points_1m`)).toBe('42501');
    expect(await readWrite(`CREATE TABLE public.grafana_was_here (i int)`)).toBe('42501');
    for (const table of ['api_keys', 'points', 'orgs', 'sources']) {
      expect({ table, result: await refused(grafana, `SELECT * FROM ${table} LIMIT 1`) }).toEqual({ table, result: '42501' });
    }
  });

  it('the variables list the orgs, the org’s sources, the source’s metrics', async () => {
    expect(await variableValues(grafana, 'org', {})).toEqual(['default', otherOrg]);
    expect(await variableValues(grafana, 'source', { org: ['default'] })).toEqual(['rig-1', 'rig-2']);
    expect(await variableValues(grafana, 'metric', { org: ['default'], source: ['rig-1'] })).toEqual(['pressure', 'status', 'temperature']);
    expect(await variableValues(grafana, 'metric', { org: [otherOrg], source: ['rig-1'] })).toEqual(['temperature']);
    // A value with a quote is a value, not SQL.
    expect(await variableValues(grafana, 'source', { org: ["default' OR 'a' = 'a"] })).toEqual([]);
  });

  it('the raw time series averages each metric per interval, within the range, for the chosen org, source and metrics', async () => {
    const expected: [number, string, number | null][] = [
      [at(0), 'pressure', 100],
      [at(0), 'temperature', 22],
      [at(60), 'pressure', 110],
      [at(60), 'temperature', 31],
    ];
    const chosen = { org: ['default'], source: ['rig-1'], metric: ['pressure', 'temperature'] };
    expect(series(await runPanel(grafana, rawSeriesPanel(), chosen))).toEqual(expected);
    // "All" metrics: the string-valued metric has no average and no row.
    expect(series(await runPanel(grafana, rawSeriesPanel(), { ...chosen, metric: ['pressure', 'status', 'temperature'] }))).toEqual(
      expected,
    );
    // A wider interval: every point of the range falls in one 5-minute bucket (t0 is on one).
    expect(series(await runPanel(grafana, rawSeriesPanel(), { ...chosen, metric: ['temperature'] }, '5m'))).toEqual([
      [at(0), 'temperature', (20 + 22 + 24 + 30 + 32) / 5],
    ]);
    expect(series(await runPanel(grafana, rawSeriesPanel(), { ...chosen, org: [otherOrg] }))).toEqual([
      [at(0), 'temperature', -5],
      [at(60), 'temperature', -7],
    ]);
  });

  it('the rollup time series (points_1m) gives the same averages as the raw one', async () => {
    const chosen = { org: ['default'], source: ['rig-1'], metric: ['pressure', 'status', 'temperature'] };
    const fromRollups = series(await runPanel(grafana, rollupSeriesPanel(), chosen));
    expect(fromRollups).toEqual(series(await runPanel(grafana, rawSeriesPanel(), chosen)));
    expect(fromRollups).toHaveLength(4);
  });

  it('the table shows the latest value of each metric with its tags and session; the stat counts the points', async () => {
    const chosen = { org: ['default'], source: ['rig-1'], metric: ['pressure', 'status', 'temperature'] };
    const latest = await runPanel(grafana, latestPanel(), chosen);
    expect(latest.map((row) => ({ ...row, time: new Date(row.time).getTime() / 1000 }))).toEqual([
      { metric: 'pressure', time: at(70), value: 110, value_json: null, tags: {}, session_id: '' },
      { metric: 'status', time: at(90), value: null, value_json: 'done', tags: {}, session_id: '' },
      { metric: 'temperature', time: at(80), value: 32, value_json: null, tags: { room: 'lab' }, session_id: 'run-1' },
    ]);

    const count = async (values: Values) => Number((await runPanel(grafana, countPanel(), values))[0].points);
    expect(await count(chosen)).toBe(9);
    expect(await count({ ...chosen, metric: ['temperature'] })).toBe(5);
    expect(await count({ ...chosen, source: ['rig-2'] })).toBe(1);
    expect(await count({ ...chosen, org: [otherOrg] })).toBe(2);
  });

  it('every SELECT in docs/grafana.md runs as that role and finds the example data', async () => {
    const selects = fenced(docs, 'sql').filter((block) => /^\s*(--[^\n]*\n\s*)*(SELECT|WITH)\b/i.test(block));
    expect(selects.length).toBeGreaterThanOrEqual(3);
    const values = { org: ['default'], source: ['rig-1'], metric: ['temperature'] };
    for (const sql of selects) {
      const result = await rows(grafana, sql, values);
      expect({ sql, found: result.length > 0 }).toEqual({ sql, found: true });
    }
  });

  it('org-role.sql: the per-org role sees its org only, and the dashboard works for it unchanged', async () => {
    expect(Number((await orgGrafana.query('SELECT count(*) FROM telemetry')).rows[0].count)).toBe(2);
    expect((await orgGrafana.query('SELECT DISTINCT org_id FROM series')).rows).toEqual([{ org_id: otherOrg }]);
    expect(Number((await orgGrafana.query('SELECT sum(n) FROM points_1m')).rows[0].sum)).toBe(2);
    for (const table of ['public.telemetry', 'public.series', 'public.points_1m', 'public.points', 'public.api_keys']) {
      expect({ table, result: await refused(orgGrafana, `SELECT * FROM ${table} LIMIT 1`) }).toEqual({ table, result: '42501' });
    }

    expect(await variableValues(orgGrafana, 'org', {})).toEqual([otherOrg]);
    expect(await variableValues(orgGrafana, 'source', { org: ['default'] })).toEqual([]);
    const mine = { org: [otherOrg], source: ['rig-1'], metric: ['temperature'] };
    const expected = [
      [at(0), 'temperature', -5],
      [at(60), 'temperature', -7],
    ];
    expect(series(await runPanel(orgGrafana, rawSeriesPanel(), mine))).toEqual(expected);
    expect(series(await runPanel(orgGrafana, rollupSeriesPanel(), mine))).toEqual(expected);
    expect(Number((await runPanel(orgGrafana, countPanel(), mine))[0].points)).toBe(2);
    const theirs = { org: ['default'], source: ['rig-1'], metric: ['temperature'] };
    expect(await runPanel(orgGrafana, rawSeriesPanel(), theirs)).toEqual([]);
    expect(await runPanel(orgGrafana, latestPanel(), theirs)).toEqual([]);
    expect(Number((await runPanel(orgGrafana, countPanel(), theirs))[0].points)).toBe(0);
  });
});
