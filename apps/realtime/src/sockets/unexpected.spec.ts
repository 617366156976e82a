import { describe, expect, it } from '@jest/globals';
import { METRICS } from '#common';
import { guarded, reportUnexpected } from './unexpected.js';

async function count(where: string): Promise<number> {
  return (await METRICS.unexpectedErrors.get()).values.find((v) => v.labels.where === where)?.value ?? 0;
}

describe('guarded callbacks', () => {
  it('never let a throw out, and count it under where it happened', async () => {
    const callback = guarded('spec sync', (value: number) => {
      throw new Error(`boom ${value}`);
    });
    expect(() => callback(1)).not.toThrow();
    expect(await count('spec sync')).toBe(1);
  });

  it('catch a rejected promise too', async () => {
    const callback = guarded('spec async', async () => {
      throw new Error('later');
    });
    callback();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await count('spec async')).toBe(1);
  });

  it('answer an error id for the peer', () => {
    expect(reportUnexpected('spec id', new Error('x'))).toMatch(/^[0-9a-f-]{36}$/);
  });
});
