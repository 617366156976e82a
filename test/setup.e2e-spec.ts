import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Platform } from './support/platform.js';

const run = promisify(execFile);
let platform: Platform;
let home: string;

beforeAll(async () => {
  platform = await Platform.start({ apps: ['pairing', 'ingest', 'gateway'] });
  home = mkdtempSync(join(tmpdir(), 'plexus-setup-home-'));
}, 120_000);

afterAll(async () => {
  await platform?.stop();
  rmSync(home, { recursive: true, force: true });
});

async function newCode(): Promise<string> {
  return (
    (await (await platform.api('/api/sources/pair', { method: 'POST', body: JSON.stringify({ name: 'Setup Pi' }) })).json()) as {
      code: string;
    }
  ).code;
}

/** Exactly what a person runs on the device: curl -sL $URL/setup | bash -s -- --code ABC123 */
async function setup(code: string): Promise<{ stdout: string; stderr: string }> {
  return run('bash', ['-c', `curl -fsSL ${platform.gateway}/setup | bash -s -- --code ${code}`], {
    env: { ...process.env, HOME: home, PLEXUS_ENDPOINT: '' },
    timeout: 240_000,
    maxBuffer: 10 * 1024 * 1024,
  });
}

describe('GET /setup', () => {
  it('serves a script and the agent package it installs', async () => {
    const script = await platform.api('/setup', { key: null });
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/shellscript/);
    expect(await script.text()).toContain(`ENDPOINT='${platform.gateway}'`);
    const tarball = await platform.api('/agent/plexus-agent.tgz', { key: null });
    expect(tarball.status).toBe(200);
    expect((await tarball.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
    expect(await (await platform.api('/api/config', { key: null })).json()).toMatchObject({
      ws_url: expect.stringMatching(/^ws:\/\//),
      version: expect.any(String),
    });
  });

  it('installs the packed agent on a clean prefix in a fresh home, pairs it, runs plexus --help, and can run again', async () => {
    const first = await setup(await newCode());
    expect(first.stdout).toMatch(/Paired as "Setup Pi"/);
    const configFile = join(home, '.plexus', 'config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, string>;
    expect(config).toMatchObject({
      device_token: expect.stringMatching(/^plxd_/),
      org_id: 'default',
      endpoint: platform.gateway,
      source_name: 'Setup Pi',
    });
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    const plexus = join(home, '.plexus', 'agent', 'bin', 'plexus');
    const status = await run(plexus, ['status'], { env: { ...process.env, HOME: home, PLEXUS_ENDPOINT: '' } });
    expect(status.stdout).toMatch(/paired +yes/);

    const second = await setup(await newCode());
    expect(second.stdout).toMatch(/Paired as/);
    const again = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, string>;
    expect(again.device_token).not.toBe(config.device_token);
    const help = await run(plexus, ['--help']);
    expect(help.stdout).toMatch(/pair/);
  }, 600_000);
});
