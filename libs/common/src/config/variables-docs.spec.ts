import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { renderEnvExample, withVariablesTable } from './variables-docs.js';
import { type VariableName, VARIABLES } from './variables.js';

// The docs must say what the apps check: each file is compared with what VARIABLES renders.
// When this fails after a variable changed: `npm run build && node dist/scripts/config-docs.js`.
const root = join(process.cwd());
const read = (...path: string[]) => readFileSync(join(root, ...path), 'utf8');
const docs = () => [
  { file: 'README.md', text: read('README.md') },
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => ({ file: `docs/${name}`, text: read('docs', name) })),
];
const isVariable = (name: string): name is VariableName => Object.hasOwn(VARIABLES, name);

describe('.env.example and docs/configuration.md', () => {
  it('.env.example lists every variable with its default, as variables.ts says', () => {
    expect(read('.env.example')).toBe(renderEnvExample());
  });

  it("docs/configuration.md's table is the one variables.ts renders", () => {
    const page = read('docs', 'configuration.md');
    expect(page).toBe(withVariablesTable(page));
    for (const name of Object.keys(VARIABLES)) expect(page).toContain(`| \`${name}\` |`);
  });
});

describe('every other page', () => {
  // Names that look like settings but are not the apps': test knobs and the Kubernetes secret keys
  // of the NATS users (deploy/kubernetes/secret.example.yaml).
  const notSettings = /^(PLEXUS_TEST_|PLEXUS_FUZZ_|NATS_PASSWORD_(GATEWAY|INGEST|PAIRING|REALTIME|ALERTS|OPS)$)/;

  it('names only variables that exist', () => {
    const unknown = docs().flatMap(({ file, text }) =>
      [...text.matchAll(/`((?:PLEXUS|NATS)_[A-Z0-9_]+)`/g)]
        .map((match) => match[1])
        .filter((name) => !isVariable(name) && !notSettings.test(name))
        .map((name) => `${file}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it('gives the same default in a table whose rows start with one variable', () => {
    const disagreements: string[] = [];
    for (const { file, text } of docs()) {
      if (file === 'docs/configuration.md') continue;
      for (const [, name, second] of text.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| ([^|]*) \|/gm)) {
        if (!isVariable(name)) continue;
        const fallback = VARIABLES[name] as { default?: unknown };
        const number = /^(\d+)\b/.exec(second.trim());
        const quoted = /^`([^`]*)`/.exec(second.trim());
        const stated = number ? Number(number[1]) : quoted ? quoted[1] : second.trim() === 'empty' ? undefined : 'unchecked';
        if (stated === 'unchecked') continue;
        if (stated !== (typeof stated === 'number' ? fallback.default : fallback.default?.toString()))
          disagreements.push(`${file}: ${name} says ${second.trim()}, variables.ts ${String(fallback.default)}`);
      }
    }
    expect(disagreements).toEqual([]);
  });
});
