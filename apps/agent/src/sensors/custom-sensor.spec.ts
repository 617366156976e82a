import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BaseSensor } from './base-sensor.js';
import { loadCustomSensors } from './custom-sensor.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plexus-custom-sensor-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeModule(name: string, source: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, source);
  return file;
}

describe('loadCustomSensors', () => {
  it('loads an exported class (constructed with no arguments) and a plain { name, metrics, read } object', async () => {
    const file = await writeModule(
      'two-sensors.mjs',
      `
      export class Anemometer {
        name = 'anemometer';
        metrics = ['wind_speed'];
        sampleRate = 4;
        read() { return [{ metric: 'wind_speed', value: 3.5 }]; }
      }
      export const rainGauge = {
        name: 'rain',
        metrics: ['rain_mm'],
        prefix: 'garden.',
        read: async () => [{ metric: 'rain_mm', value: 0.2 }],
      };
      export function helper() { throw new Error('must not be called'); }
      export const version = 2;
      `,
    );
    const sensors = await loadCustomSensors(file);

    expect(sensors.map((sensor) => sensor instanceof BaseSensor)).toEqual([true, true]);
    expect(sensors.map((sensor) => sensor.describe())).toEqual([
      { name: 'anemometer', description: '', metrics: ['wind_speed'], sample_rate: 4, prefix: '', available: true },
      { name: 'rain', description: '', metrics: ['garden.rain_mm'], sample_rate: 10, prefix: 'garden.', available: true },
    ]);
    expect(await sensors[0].read()).toEqual([{ metric: 'wind_speed', value: 3.5 }]);
    expect(await sensors[1].read()).toEqual([{ metric: 'rain_mm', value: 0.2 }]);
  });

  it('keeps exported BaseSensor subclasses and instances as they are', async () => {
    const baseSensorUrl = pathToFileURL(fileURLToPath(new URL('./base-sensor.ts', import.meta.url))).href;
    const file = await writeModule(
      'subclass.mjs',
      `
      import { BaseSensor } from '${baseSensorUrl}';
      export default class Soil extends BaseSensor {
        name = 'soil';
        metrics = ['moisture'];
        read() { return [{ metric: 'moisture', value: 0.4 }]; }
      }
      class Light extends BaseSensor {
        name = 'light';
        metrics = ['lux'];
        read() { return [{ metric: 'lux', value: 120 }]; }
      }
      export const light = new Light();
      `,
    );
    const sensors = await loadCustomSensors(file);
    expect(sensors.map((sensor) => [sensor.constructor.name, sensor.name])).toEqual([
      ['Soil', 'soil'],
      ['Light', 'light'],
    ]);
    expect(await sensors[1].read()).toEqual([{ metric: 'lux', value: 120 }]);
  });

  it('resolves a relative path against the working directory and accepts a default export', async () => {
    const file = await writeModule(
      'default-export.mjs',
      `export default { name: 'lux', metrics: ['lux'], read: () => [{ metric: 'lux', value: 300 }] };`,
    );
    const sensors = await loadCustomSensors(relative(process.cwd(), file));
    expect(sensors.map((sensor) => sensor.name)).toEqual(['lux']);
  });

  it('forwards setup and close of a wrapped object', async () => {
    const file = await writeModule(
      'lifecycle.mjs',
      `
      export const calls = [];
      export const probe = {
        name: 'probe', metrics: ['v'],
        setup() { calls.push('setup'); }, read() { return []; }, close() { calls.push('close'); },
      };
      `,
    );
    const [sensor] = await loadCustomSensors(file);
    await sensor.setup();
    await sensor.close();
    const { calls } = (await import(file)) as { calls: string[] };
    expect(calls).toEqual(['setup', 'close']);
  });

  it('names the file when it does not exist', async () => {
    const missing = join(dir, 'nope.mjs');
    await expect(loadCustomSensors(missing)).rejects.toThrow(`Custom sensor file not found: ${missing}`);
  });

  it('names the file when nothing usable is exported', async () => {
    const file = await writeModule(
      'nothing.mjs',
      `export const name = 'not a sensor'; export default { name: 'x', metrics: 'oops', read() {} };`,
    );
    await expect(loadCustomSensors(file)).rejects.toThrow(`Custom sensor file ${file} exports no usable sensor`);
  });

  // A module that throws while evaluating; a syntax error would take the same path in Node, but Jest's
  // module registry leaves an unhandled rejection behind for unparsable files.
  it('names the file when importing it fails', async () => {
    const file = await writeModule('throws.mjs', `throw new Error('no GPIO access');`);
    await expect(loadCustomSensors(file)).rejects.toThrow(`Could not load custom sensor file ${file}: no GPIO access`);
  });

  it('names the file and the class when the class cannot be constructed without arguments', async () => {
    const file = await writeModule(
      'needs-args.mjs',
      `export class Thermocouple { constructor(pin) { if (pin === undefined) throw new Error('pin required'); } read() { return []; } }`,
    );
    await expect(loadCustomSensors(file)).rejects.toThrow(/Thermocouple from .*needs-args\.mjs could not be constructed.*pin required/);
  });

  it('refuses TypeScript sources with a hint', async () => {
    await expect(loadCustomSensors(join(dir, 'sensor.ts'))).rejects.toThrow(/must be JavaScript.*compile TypeScript first/);
  });
});
