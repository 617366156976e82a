import { describe, expect, it } from '@jest/globals';
import { mediumScope } from '../../../../test/support/medium.js';

// Medium: the "secret kept in settings" every instance of an app must share, on the real PostgreSQL.
const scope = await mediumScope();
const { loadSettingSecret } = await import('./setting-secret.js');

const viaPool = { query: async (sql: string, params?: unknown[]) => (await scope.db.query(sql, params)).rows };

describe('loadSettingSecret', () => {
  it('answers the configured value and stores nothing', async () => {
    expect(await loadSettingSecret(viaPool, 'test_configured', 'c'.repeat(32))).toBe('c'.repeat(32));
    const { rows } = await scope.db.query(`SELECT 1 FROM settings WHERE name = 'test_configured'`);
    expect(rows).toEqual([]);
  });

  it('generates one secret once: instances starting together all read the one stored', async () => {
    const loaded = await Promise.all(Array.from({ length: 8 }, () => loadSettingSecret(viaPool, 'test_generated')));
    expect(new Set(loaded).size).toBe(1);
    expect(loaded[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(await loadSettingSecret(viaPool, 'test_generated')).toBe(loaded[0]);
    const { rows } = await scope.db.query(`SELECT value FROM settings WHERE name = 'test_generated'`);
    expect(rows).toEqual([{ value: loaded[0] }]);
  });

  it('keeps settings apart by name', async () => {
    const first = await loadSettingSecret(viaPool, 'test_one');
    const second = await loadSettingSecret(viaPool, 'test_two');
    expect(first).not.toBe(second);
  });
});
