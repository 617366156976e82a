import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** dist/dashboard/, where `npm run build` compiles apps/dashboard. */
const DASHBOARD_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'dashboard');

/** The only files of node_modules the gateway hands out: the dashboard's ES modules, named in its import map. */
const VENDOR_FILES = new Set([
  '/preact.module.js',
  '/preact.module.js.map',
  '/hooks.module.js',
  '/hooks.module.js.map',
  '/htm.module.js',
  '/uPlot.esm.js',
  '/uPlot.min.css',
]);
/** The folders those files are in: each package's main entry's folder (`dist/`). */
const VENDOR_PACKAGES = ['preact', 'preact/hooks', 'htm', 'uplot'];

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

const hasKnownType = (path: string) => Object.hasOwn(CONTENT_TYPES, extname(path).toLowerCase());

/** Our types rather than the mime table's, and revalidation on every load (`no-cache`; ETag and Last-Modified make it a 304). */
function dashboardHeaders(reply: FastifyReply, path: string): void {
  reply.header('content-type', CONTENT_TYPES[extname(path).toLowerCase()]);
  reply.header('cache-control', 'no-cache');
  reply.header('x-content-type-options', 'nosniff');
}

/**
 * Serves the dashboard's compiled modules under `/assets/` and the whitelisted library modules
 * under `/vendor/` with @fastify/static. `wildcard: false`: the files are listed once at start
 * and each gets its own route, so no URL reaches a path resolved at request time (no traversal,
 * no dotfiles, no directory listing); anything else falls through to the dashboard controller's
 * JSON 404. `allowedPath` narrows that to files of a known type (and, for vendor, the import map's).
 *
 * Registered without awaiting, as Nest's own useStaticAssets does: awaiting would make Fastify
 * load its plugin queue now, and the routes Nest declared so far would be built before Nest sets
 * its error handler — their errors (a bad JSON body) would then skip HttpErrorFilter.
 */
export function serveDashboardFiles(fastify: FastifyInstance): void {
  const common = {
    wildcard: false,
    index: false,
    list: false,
    cacheControl: false,
    dotfiles: 'ignore',
    setHeaders: dashboardHeaders,
  } as const;
  const assets = join(DASHBOARD_DIR, 'assets');
  if (existsSync(assets)) {
    void fastify.register(fastifyStatic, { ...common, root: assets, prefix: '/assets/', allowedPath: hasKnownType });
  }
  const require = createRequire(import.meta.url);
  void fastify.register(fastifyStatic, {
    ...common,
    root: VENDOR_PACKAGES.map((pkg) => dirname(require.resolve(pkg))),
    prefix: '/vendor/',
    // Registered a second time: reply.sendFile is already decorated by the first.
    decorateReply: false,
    // A package's dist/ holds more than the import map names: those get a route but no file.
    allowedPath: (path) => VENDOR_FILES.has(path),
  });
}

/** The dashboard's page, served at `/` and at every client-side route. */
@Injectable()
export class DashboardFiles {
  indexHtml(): string | undefined {
    try {
      return readFileSync(join(DASHBOARD_DIR, 'index.html'), 'utf8');
    } catch {
      return undefined;
    }
  }
}
