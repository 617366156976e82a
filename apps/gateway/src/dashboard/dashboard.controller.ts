import { Controller, Get, Header, Req, StreamableFile } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '#common';
import { DashboardFiles } from './dashboard-files.js';

/**
 * First path segments that belong to the API and the apps' own endpoints: an unknown path
 * under them is a JSON 404, never the dashboard's page.
 */
const RESERVED = new Set(['api', 'health', 'setup', 'agent', 'metrics', 'assets', 'vendor', 'ws', 'party']);
/** The dashboard's own pages, whose ids may contain a dot (`/devices/lab.pi-2`). */
const PAGES = new Set(['fleet', 'devices', 'sessions', 'explorer', 'keys']);

/**
 * Serves the web dashboard's page at `/` and at every client-side route (`/fleet`,
 * `/devices/:id`, …). Its compiled modules under `/assets/` and the few library modules its
 * import map names under `/vendor/` are static files (serveDashboardFiles, @fastify/static);
 * a path under them that is no file is a JSON 404 (here, or from Nest's not-found handler).
 */
@Controller()
export class DashboardController {
  constructor(private readonly files: DashboardFiles) {}

  @Get()
  @Header('cache-control', 'no-cache')
  index(): StreamableFile {
    return this.page();
  }

  /** Client-side routes get the page; the router in the browser takes it from there. */
  @Get('*')
  @Header('cache-control', 'no-cache')
  route(@Req() request: FastifyRequest): StreamableFile {
    const path = request.url.split('?')[0];
    const first = path.split('/')[1] ?? '';
    // Elsewhere a path with an extension is a file that does not exist (favicon.ico, robots.txt), not a page.
    if (RESERVED.has(first) || (!PAGES.has(first) && /\.[A-Za-z0-9]+$/.test(path)))
      throw new DomainError('NOT_FOUND', `no route for GET ${path}`);
    return this.page();
  }

  // A typed body rather than @Header('content-type'): that header would also be set on the JSON error.
  private page(): StreamableFile {
    const html = this.files.indexHtml();
    if (!html) throw new DomainError('NOT_FOUND', 'the dashboard was not built: run npm run build');
    return new StreamableFile(Buffer.from(html), { type: 'text/html; charset=utf-8' });
  }
}
