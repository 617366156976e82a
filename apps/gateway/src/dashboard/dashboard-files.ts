import { createReadStream, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';

/** dist/dashboard/, where `npm run build` compiles apps/dashboard. */
const DASHBOARD_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'dashboard');

/** The only files of node_modules the gateway hands out: the dashboard's ES modules, named in its import map. */
const VENDOR_FILES: Record<string, { pkg: string; file: string }> = {
  'preact.module.js': { pkg: 'preact', file: 'dist/preact.module.js' },
  'preact.module.js.map': { pkg: 'preact', file: 'dist/preact.module.js.map' },
  'hooks.module.js': { pkg: 'preact', file: 'hooks/dist/hooks.module.js' },
  'hooks.module.js.map': { pkg: 'preact', file: 'hooks/dist/hooks.module.js.map' },
  'htm.module.js': { pkg: 'htm', file: 'dist/htm.module.js' },
  'uPlot.esm.js': { pkg: 'uplot', file: 'dist/uPlot.esm.js' },
  'uPlot.min.css': { pkg: 'uplot', file: 'dist/uPlot.min.css' },
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

export interface ServedFile {
  stream: Readable;
  type: string;
  length: number;
}

/**
 * Finds the files the dashboard is made of: anything inside dist/dashboard/ with a known
 * type, and the whitelisted vendor modules. Nothing else on disk can be named by a URL.
 */
@Injectable()
export class DashboardFiles {
  private readonly require = createRequire(import.meta.url);
  private readonly packageRoots = new Map<string, string>();
  readonly root = DASHBOARD_DIR;

  get built(): boolean {
    return existsSync(join(this.root, 'index.html'));
  }

  indexHtml(): string | undefined {
    try {
      return readFileSync(join(this.root, 'index.html'), 'utf8');
    } catch {
      return undefined;
    }
  }

  /** A file of dist/dashboard/assets/ by its path below it (URL-decoded, without a leading slash). */
  asset(relativePath: string): ServedFile | undefined {
    const assets = join(this.root, 'assets');
    const segments = relativePath.split('/');
    // No "..", no hidden files, no empty segments, no backslashes or NUL: nothing to escape with.
    if (segments.some((segment) => !segment || segment.startsWith('.') || /[\\\0]/.test(segment))) return undefined;
    const target = resolve(assets, ...segments);
    if (!target.startsWith(assets + sep)) return undefined;
    return this.open(target, assets);
  }

  vendor(name: string): ServedFile | undefined {
    const entry = Object.hasOwn(VENDOR_FILES, name) ? VENDOR_FILES[name] : undefined;
    if (!entry) return undefined;
    const root = this.packageRoot(entry.pkg);
    return root ? this.open(join(root, entry.file), root) : undefined;
  }

  private open(path: string, within: string): ServedFile | undefined {
    const type = CONTENT_TYPES[extname(path).toLowerCase()];
    if (!type) return undefined;
    try {
      // A symlink inside the folder must not lead out of it.
      const real = realpathSync(path);
      const realRoot = realpathSync(within);
      if (!real.startsWith(realRoot + sep)) return undefined;
      const stats = statSync(real);
      if (!stats.isFile()) return undefined;
      return { stream: createReadStream(real), type, length: stats.size };
    } catch {
      return undefined;
    }
  }

  /** The installed package's folder, found from its main entry (some packages do not export package.json). */
  private packageRoot(pkg: string): string | undefined {
    if (this.packageRoots.has(pkg)) return this.packageRoots.get(pkg);
    let root: string | undefined;
    try {
      let dir = dirname(this.require.resolve(pkg));
      while (dir !== dirname(dir)) {
        const manifest = join(dir, 'package.json');
        if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === pkg) {
          root = dir;
          break;
        }
        dir = dirname(dir);
      }
    } catch {
      root = undefined;
    }
    this.packageRoots.set(pkg, root as string);
    return root;
  }
}
