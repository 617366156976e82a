import { readFileSync } from 'node:fs';

/** The platform's version, from the root package.json (found from the source or the built tree). */
function readVersion(): string {
  for (const relative of ['../../../package.json', '../../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'plexus' && pkg.version) return pkg.version;
    } catch {
      // try the next place
    }
  }
  return '0.0.0';
}

export const PLEXUS_VERSION = readVersion();
