import { Controller, Get, Header, Param, Req, StreamableFile } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '#common';
import { DashboardFiles, type ServedFile } from './dashboard-files.js';

/**
 * First path segments that belong to the API and the apps' own endpoints: an unknown path
 * under them is a JSON 404, never the dashboard's page.
 */
const RESERVED = new Set(['api', 'health', 'setup', 'agent', 'metrics', 'assets', 'vendor', 'ws', 'party']);
/** The dashboard's own pages, whose ids may contain a dot (`/devices/lab.pi-2`). */
const PAGES = new Set(['fleet', 'devices', 'sessions', 'explorer', 'keys']);

/**
 * Serves the web dashboard: its page at `/` and at every client-side route (`/fleet`,
 * `/devices/:id`, …), its compiled modules under `/assets/`, and the few library modules
 * its import map names under `/vendor/`.
 */
@Controller()
export class DashboardController {
  constructor(private readonly files: DashboardFiles) {}

  @Get()
  @Header('cache-control', 'no-cache')
  index(): StreamableFile {
    return this.page();
  }

  @Get('assets/*')
  @Header('cache-control', 'no-cache')
  @Header('x-content-type-options', 'nosniff')
  asset(@Param('*') path: string): StreamableFile {
    return this.serve(this.files.asset(path ?? ''), path);
  }

  @Get('vendor/:name')
  @Header('cache-control', 'no-cache')
  @Header('x-content-type-options', 'nosniff')
  vendor(@Param('name') name: string): StreamableFile {
    return this.serve(this.files.vendor(name), name);
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

  private serve(file: ServedFile | undefined, name: string): StreamableFile {
    if (!file) throw new DomainError('NOT_FOUND', `no file ${name}`);
    return new StreamableFile(file.stream, { type: file.type });
  }
}
