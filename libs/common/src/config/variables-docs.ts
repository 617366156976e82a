import { type Reader, type Variable, type VariableName, VARIABLES } from './variables.js';

/**
 * `.env.example` and the table of docs/configuration.md, written from VARIABLES so the list a
 * reader sees is the list the apps check. `node dist/scripts/config-docs.js` rewrites both;
 * variables-docs.spec.ts fails when either differs from what this renders.
 */
const APPS: readonly Reader[] = ['gateway', 'ingest', 'pairing', 'realtime', 'alerts'];

function entries(): [VariableName, Variable][] {
  return Object.entries(VARIABLES) as [VariableName, Variable][];
}

function readersOf(variable: Variable): string {
  const readers = variable.readers.filter((reader) => !APPS.includes(reader));
  const apps = variable.readers.filter((reader) => APPS.includes(reader));
  const named = apps.length === APPS.length ? ['every app'] : apps;
  return [...named, ...readers.map((reader) => (reader === 'ops' ? 'npm run ops' : 'docker compose'))].join(', ');
}

function defaultOf(variable: Variable): string {
  if (variable.default !== undefined) return `\`${variable.default}\``;
  return variable.derivedDefault ? `_${variable.derivedDefault}_` : '';
}

export function renderEnvExample(): string {
  const lines = [
    '# Every setting Plexus reads, with its default. Copy to .env for docker compose, or export for npm start.',
    '# Empty means the default. Written from libs/common/src/config/variables.ts by `node dist/scripts/config-docs.js`',
    '# (after npm run build); a unit test fails when the two differ. docs/configuration.md has the bounds.',
  ];
  let group = '';
  for (const [name, variable] of entries()) {
    if (variable.group !== group) {
      group = variable.group;
      lines.push('', `## ${group}`);
    }
    const derived = variable.derivedDefault ? ` Default: ${variable.derivedDefault}.` : '';
    lines.push(`# ${variable.description}${derived} (${readersOf(variable)})`);
    lines.push(`${name}=${variable.default ?? ''}`);
  }
  return `${lines.join('\n')}\n`;
}

const cell = (text: string) => text.replaceAll('|', '\\|');

/** The Markdown table of every variable: name, default, what it must be, who reads it, what it does. */
export function renderVariablesTable(): string {
  const rows = entries().map(
    ([name, variable]) =>
      `| \`${name}\` | ${cell(defaultOf(variable) || '—')} | ${cell(variable.must === 'text' ? 'any text' : variable.must)} | ${readersOf(variable)} | ${cell(variable.description)} |`,
  );
  return ['| Variable | Default | Must be | Read by | What it does |', '|---|---|---|---|---|', ...rows].join('\n');
}

export const TABLE_START = '<!-- variables:start (written by scripts/config-docs.ts) -->';
export const TABLE_END = '<!-- variables:end -->';

/** `page` with the text between the table markers replaced by the current table. */
export function withVariablesTable(page: string): string {
  const start = page.indexOf(TABLE_START);
  const end = page.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`the page has no ${TABLE_START} … ${TABLE_END} markers`);
  return `${page.slice(0, start + TABLE_START.length)}\n${renderVariablesTable()}\n${page.slice(end)}`;
}
