import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/*
 * How the SDK behaves in a real Node process, which Jest cannot show: the flush timer is
 * unref'd, yet a plain script that awaits send() and never calls close() must still deliver
 * its points and exit. The SDK is compiled with tsc into a temporary folder and run as a child.
 */

const sdkFolder = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = resolve(sdkFolder, '../../../..');

let compiled: string;
let server: Server;
let endpoint: string;
const received: Array<{ metric: string; value: unknown }> = [];

beforeAll(async () => {
  compiled = await mkdtemp(join(tmpdir(), 'plexus-sdk-'));
  const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
  await promisify(execFile)(
    process.execPath,
    [
      tsc,
      '--ignoreConfig',
      '--outDir',
      compiled,
      '--rootDir',
      sdkFolder,
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'ES2023',
      '--lib',
      'ES2023',
      '--types',
      'node',
      '--skipLibCheck',
      '--strict',
      join(sdkFolder, 'index.ts'),
    ],
    { cwd: repoRoot },
  );
  await writeFile(join(compiled, 'package.json'), '{ "type": "module" }\n');

  server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const { points } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { points: Array<{ metric: string; value: unknown }> };
      received.push(...points.map(({ metric, value }) => ({ metric, value })));
      outgoing.writeHead(200, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify({ success: true, accepted: points.length }));
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  if (server?.listening) {
    server.closeAllConnections();
    await new Promise((closed) => server.close(closed));
  }
  if (compiled) await rm(compiled, { recursive: true, force: true });
});

/** Runs an ES module script next to the compiled SDK; kills it at the deadline so a hang fails the test. */
async function runScript(source: string, deadlineMs: number): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const script = join(compiled, `script-${Date.now()}.mjs`);
  await writeFile(script, source);
  const started = Date.now();
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, PLEXUS_API_KEY: 'plx_test_key', PLEXUS_SOURCE_ID: 'rig-1', PLEXUS_ENDPOINT: endpoint },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  const code = await new Promise<number | null>((exited) => child.on('close', exited));
  clearTimeout(killer);
  return { code, stdout, stderr, ms: Date.now() - started };
}

describe('a script using the SDK', () => {
  it('delivers queued points and exits without close(), though the flush timer is far away', async () => {
    const result = await runScript(
      `import { Plexus } from './index.js';
       const px = new Plexus({ flushIntervalMs: 600000 });
       px.send('fire-and-forget', 1);
       await px.send('awaited', 2);
       console.log('stored');`,
      20_000,
    );

    expect(result).toMatchObject({ code: 0, stdout: 'stored\n', stderr: '' });
    expect(result.ms).toBeLessThan(20_000);
    expect(received).toEqual([
      { metric: 'fire-and-forget', value: 1 },
      { metric: 'awaited', value: 2 },
    ]);
  });
});
