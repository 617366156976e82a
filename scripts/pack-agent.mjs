// Packs apps/agent into dist/agent/ for the gateway to serve to `curl …/setup | bash`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';

mkdirSync('dist/agent', { recursive: true });
for (const old of readdirSync('dist/agent')) rmSync(`dist/agent/${old}`);
execFileSync('npm', ['pack', './apps/agent', '--pack-destination', 'dist/agent', '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
