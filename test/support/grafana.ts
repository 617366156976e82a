/**
 * What the Grafana tests share (test/grafana-files.spec.ts checks the files of deploy/grafana and
 * docs/grafana.md, test/grafana.e2e-spec.ts runs the dashboard against a migrated database): the
 * files, read once, with the shapes the checks read, and Grafana's interpolation of the
 * dashboard's SQL (template variables, then the PostgreSQL plugin's macros).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from '@jest/globals';
import { parse } from 'yaml';

export const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..');
export const read = (path: string): string => readFileSync(join(root, path), 'utf8');

const DATASOURCE_FILE = 'deploy/grafana/provisioning/datasources/plexus.yaml';
const PROVIDER_FILE = 'deploy/grafana/provisioning/dashboards/plexus.yaml';
const DASHBOARD_FILE = 'deploy/grafana/dashboards/plexus-telemetry.json';
const COMPOSE_FILE = 'deploy/grafana/compose.yaml';
export const ROLE_FILE = 'deploy/grafana/readonly-role.sql';
export const ORG_ROLE_FILE = 'deploy/grafana/org-role.sql';
const DOCS_FILE = 'docs/grafana.md';

// The files are checked at run time; these are the shapes the checks read.
export interface DataSourceRef {
  type: string;
  uid: string;
}
export interface Target {
  refId: string;
  datasource: DataSourceRef;
  rawQuery: boolean;
  editorMode: string;
  format: 'time_series' | 'table';
  rawSql: string;
}
export interface Panel {
  id: number;
  type: string;
  title: string;
  interval?: string;
  datasource: DataSourceRef;
  targets: Target[];
}
export interface Variable {
  name: string;
  type: string;
  query: string;
  definition: string;
  multi: boolean;
  includeAll: boolean;
  datasource: DataSourceRef;
}
export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

export const datasources = parse(read(DATASOURCE_FILE)) as { apiVersion: number; datasources: Record<string, any>[] };
export const provider = parse(read(PROVIDER_FILE)) as { apiVersion: number; providers: Record<string, any>[] };
export const dashboard = JSON.parse(read(DASHBOARD_FILE)) as Dashboard;
export const composeYaml = read(COMPOSE_FILE);
export const compose = parse(composeYaml) as { services: { grafana: { environment: Record<string, string>; volumes: string[] } } };
export const docs = read(DOCS_FILE);

// ---- Grafana's interpolation, as Grafana does it -------------------------------------------
// The frontend replaces template variables ($__interval, ${name:format}); the PostgreSQL
// plugin's backend then expands the macros (pkg/tsdb/grafana-postgresql-datasource/macros.go,
// with jsonData.timescaledb false). Anything else that looks like either is an error here, as
// an unknown macro is one in Grafana.

export type Values = Record<string, string[]>;
export interface TimeRange {
  from: Date;
  to: Date;
}

function intervalSeconds(interval: string): number {
  const match = /^(\d+)(ms|s|m|h|d|w)$/.exec(interval);
  if (!match) throw new Error(`not a Grafana interval: ${interval}`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[match[2] as 'ms'];
  return Number(match[1]) * unit;
}

/** Go's time.RFC3339Nano in UTC: no fraction when it is zero, trailing zeros dropped. */
function rfc3339Nano(date: Date): string {
  return date
    .toISOString()
    .replace(/\.(\d+)Z$/, (_, fraction: string) => (/^0+$/.test(fraction) ? 'Z' : `.${fraction.replace(/0+$/, '')}Z`));
}

function sqlstring(values: string[]): string {
  return values.map((value) => `'${value.replaceAll("'", "''")}'`).join(',');
}

function interpolateVariables(sql: string, values: Values, interval: string): string {
  return sql.replace(/\$\{(\w+)(?::(\w+))?\}|\$(\w+)(?![\w(])/g, (whole, bracedName?: string, format?: string, bareName?: string) => {
    const name = (bracedName ?? bareName) as string;
    if (name === '__interval' && !format) return interval;
    if (name === '__interval_ms' && !format) return String(intervalSeconds(interval) * 1000);
    if (!(name in values)) throw new Error(`${whole}: no such variable on the dashboard`);
    // Without a format Grafana inserts a single value as it is: a quote in an org id or metric
    // would break (or change) the SQL. The dashboard quotes every value with :sqlstring.
    if (format !== 'sqlstring') throw new Error(`${whole}: use \${${name}:sqlstring}`);
    return sqlstring(values[name]);
  });
}

function expandMacros(sql: string, range: TimeRange): string {
  return sql.replace(/\$([_a-zA-Z0-9]+)\(([^)]*)\)/g, (whole, name: string, argumentText: string) => {
    const args = argumentText.split(',').map((argument) => argument.trim());
    switch (name) {
      case '__time':
        return `${args[0]} AS "time"`;
      case '__timeFilter':
        return `${args[0]} BETWEEN '${rfc3339Nano(range.from)}' AND '${rfc3339Nano(range.to)}'`;
      case '__timeFrom':
        return `'${rfc3339Nano(range.from)}'`;
      case '__timeTo':
        return `'${rfc3339Nano(range.to)}'`;
      case '__timeGroup':
      case '__timeGroupAlias': {
        const seconds = intervalSeconds(args[1].replace(/^'|'$/g, ''));
        const group = `floor(extract(epoch from ${args[0]})/${seconds})*${seconds}`;
        return name === '__timeGroup' ? group : `${group} AS "time"`;
      }
      default:
        throw new Error(`${whole}: unknown macro`);
    }
  });
}

export function grafanaSql(sql: string, values: Values, range: TimeRange, interval = '1m'): string {
  return expandMacros(interpolateVariables(sql, values, interval), range);
}

// ---- the dashboard --------------------------------------------------------------------------

function panel(type: string, title: RegExp): Panel {
  const found = dashboard.panels.filter((candidate) => candidate.type === type && title.test(candidate.title));
  expect(found.map((candidate) => candidate.title)).toHaveLength(1);
  return found[0];
}
export const rawSeriesPanel = (): Panel => panel('timeseries', /raw points/);
export const rollupSeriesPanel = (): Panel => panel('timeseries', /1-minute rollups/);
export const latestPanel = (): Panel => panel('table', /Latest/);
export const countPanel = (): Panel => panel('stat', /Points/);
export const variable = (name: string): Variable => {
  const found = dashboard.templating.list.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no variable ${name}`);
  return found;
};

/** The fenced blocks of a language in a Markdown text, without the fence's indentation (a list item's). */
export function fenced(markdown: string, language: string): string[] {
  return [...markdown.matchAll(new RegExp('^( *)```' + language + '\\n([\\s\\S]*?)^ *```', 'gm'))].map(([, indent, body]) =>
    body
      .split('\n')
      .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line.trimStart()))
      .join('\n'),
  );
}
