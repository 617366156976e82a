/**
 * `node dist/scripts/config-docs.js` (after `npm run build`): rewrites `.env.example` and the
 * variables table of docs/configuration.md from libs/common/src/config/variables.ts. The unit test
 * variables-docs.spec.ts fails until this has been run after a variable changes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderEnvExample, withVariablesTable } from '../libs/common/src/config/variables-docs.js';

// dist/scripts/ → the repository root.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
writeFileSync(join(root, '.env.example'), renderEnvExample());
const page = join(root, 'docs', 'configuration.md');
writeFileSync(page, withVariablesTable(readFileSync(page, 'utf8')));
console.log('wrote .env.example and docs/configuration.md');
