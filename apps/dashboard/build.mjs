// Builds the dashboard into dist/dashboard/: the static files of web/public as they are, and
// web/src compiled by tsc into dist/dashboard/assets/. Run from the repository root (npm run build).
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', '..', 'dist', 'dashboard');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

// Start clean so a renamed or deleted module is not served from an old build.
rmSync(out, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json')], { stdio: 'inherit' });
} catch {
  console.error('dashboard: TypeScript errors above');
  process.exit(1);
}
cpSync(join(here, 'web', 'public'), out, { recursive: true });
