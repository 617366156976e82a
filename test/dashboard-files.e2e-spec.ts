import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Platform } from './support/platform.js';

// The dashboard's static files as the gateway serves them (@fastify/static, see
// apps/gateway/src/dashboard/dashboard-files.ts): types, caching headers, revalidation, and
// nothing on disk but those files. Run `npm run build` first (npm test does).

let platform: Platform;
beforeAll(async () => {
  platform = await Platform.start({ apps: ['pairing', 'gateway'] });
});
afterAll(async () => {
  await platform?.stop();
});

/** A GET with the path sent as written (fetch would normalise `..` and `%2e`). */
function get(
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port: platform.ports.gateway, path, method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers as Record<string, string>,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    request.on('error', reject);
    request.end();
  });
}

describe('dashboard files', () => {
  it('serves modules, styles, maps and vendor modules with their types, no-cache and nosniff', async () => {
    for (const [path, type] of [
      ['/assets/main.js', 'text/javascript; charset=utf-8'],
      ['/assets/lib/api.js', 'text/javascript; charset=utf-8'],
      ['/assets/main.js.map', 'application/json; charset=utf-8'],
      ['/assets/styles.css', 'text/css; charset=utf-8'],
      ['/assets/favicon.svg', 'image/svg+xml'],
      ['/vendor/preact.module.js', 'text/javascript; charset=utf-8'],
      ['/vendor/hooks.module.js', 'text/javascript; charset=utf-8'],
      ['/vendor/uPlot.min.css', 'text/css; charset=utf-8'],
    ]) {
      const response = await get(path);
      expect({ path, status: response.status, type: response.headers['content-type'] }).toEqual({ path, status: 200, type });
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.body.length).toBeGreaterThan(0);
    }
    const head = await get('/assets/main.js', {}, 'HEAD');
    expect([head.status, head.headers['content-type'], head.body]).toEqual([200, 'text/javascript; charset=utf-8', '']);
  });

  it('answers a revalidation of an unchanged file with 304', async () => {
    const first = await get('/assets/main.js');
    expect(first.headers.etag).toBeTruthy();
    const again = await get('/assets/main.js', { 'if-none-match': first.headers.etag });
    expect([again.status, again.body]).toEqual([304, '']);
  });

  it('serves the page at / and client-side routes, with no-cache', async () => {
    for (const path of ['/', '/fleet', '/devices/lab.pi-2']) {
      const response = await get(path);
      expect([path, response.status, response.headers['content-type'], response.headers['cache-control']]).toEqual([
        path,
        200,
        'text/html; charset=utf-8',
        'no-cache',
      ]);
    }
  });

  it('gives nothing else on disk: traversal, dotfiles, directories, other files of the vendor packages are JSON 404s', async () => {
    for (const path of [
      '/assets/',
      '/assets',
      '/assets/lib',
      '/assets/lib/',
      '/assets/..%2f..%2f..%2fpackage.json',
      '/assets/../../../package.json',
      '/assets/%2e%2e/%2e%2e/%2e%2e/package.json',
      '/assets/lib/..%2f..%2findex.html',
      '/assets/..%5c..%5cindex.html',
      '/assets/main.js%00.map',
      '/assets/.hidden',
      '/assets/no-such.js',
      '/assets/main.js/',
      '/assets/MAIN.JS',
      '/vendor/',
      '/vendor/..%2fpackage.json',
      '/vendor/preact.js',
      '/vendor/preact.min.js',
      '/vendor/hooks.js',
      '/vendor/%2e%2e%2fpackage.json',
      '/index.html',
      '/favicon.ico',
    ]) {
      const response = await get(path);
      expect([path, response.status, response.headers['content-type']?.split(';')[0]]).toEqual([path, 404, 'application/json']);
      expect(JSON.parse(response.body)).toMatchObject({ statusCode: 404 });
    }
  });

  it('answers badly encoded, NUL-bearing and huge paths with a JSON 4xx, never a file or a 5xx', async () => {
    for (const path of [
      '/assets/%ff.js',
      '/assets/%ed%a0%80.js',
      '/assets/%c0%ae%c0%ae/package.json',
      '/assets/%00',
      '/assets/%',
      '/vendor/%e2%80%ae.js',
      `/assets/${'a'.repeat(4000)}.js`,
      `/vendor/${'%2e%2e/'.repeat(500)}package.json`,
    ]) {
      const response = await get(path);
      const label = path.slice(0, 40);
      expect([label, response.status >= 400 && response.status < 500]).toEqual([label, true]);
      expect([label, response.headers['content-type']?.split(';')[0]]).toEqual([label, 'application/json']);
    }
  });
});
