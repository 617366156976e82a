import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Platform } from './support/platform.js';

let platform: Platform;

beforeAll(async () => {
  // No PLEXUS_BOOTSTRAP_ADMIN_KEY: the pairing app must generate one and print it once.
  platform = await Platform.start({ apps: ['pairing', 'gateway'], env: { PLEXUS_BOOTSTRAP_ADMIN_KEY: '' } });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

const printedKeys = () => platform.logs.join('\n').match(/plx_[A-Za-z0-9]{40}/g) ?? [];

describe('first start on an empty database', () => {
  it('creates the org "default" with a generated admin key, printed once, that works', async () => {
    const keys = printedKeys();
    expect(keys).toHaveLength(1);
    const response = await platform.api('/api/auth/verify-key', { key: keys[0] });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ valid: true, org_id: 'default', scopes: ['admin'] });
    expect(await platform.count(`SELECT count(*) FROM orgs`)).toBe(1);
  });

  it('does not create or print another key when started again', async () => {
    await platform.stopApp('pairing');
    await platform.startApp('pairing');
    expect(printedKeys()).toHaveLength(1);
    expect(await platform.count(`SELECT count(*) FROM api_keys`)).toBe(1);
  });

  it('refuses to start with a malformed bootstrap key, naming the variable', async () => {
    const { spawnSync } = await import('node:child_process');
    const { appEntry } = await import('../scripts/platform-process.js');
    const result = spawnSync(process.execPath, [appEntry('pairing')], {
      env: { ...platform.env, PLEXUS_BOOTSTRAP_ADMIN_KEY: 'plx_short', PAIRING_HTTP_PORT: '0' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr + result.stdout).toContain('PLEXUS_BOOTSTRAP_ADMIN_KEY must be');
  });
});
