import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SensorReading } from './base-sensor.js';
import { SystemSensor, type SystemInfo } from './system-sensor.js';

const valueOf = (readings: SensorReading[], metric: string) => readings.find((reading) => reading.metric === metric)?.value;

/** Two CPUs whose tick counters advance by what the test pushes. */
function scriptedSystem(): SystemInfo & { advance(busy: number, idle: number): void } {
  const times = { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 };
  return {
    advance(busy, idle) {
      times.user += busy;
      times.idle += idle;
    },
    cpus: () => [{ times: { ...times } }, { times: { ...times } }],
    totalmem: () => 8_000,
    freemem: () => 2_000,
    loadavg: () => [0.75, 0.5, 0.25],
    uptime: () => 3600,
  };
}

let thermalRoot: string;

beforeAll(async () => {
  thermalRoot = await mkdtemp(join(tmpdir(), 'plexus-thermal-'));
});

afterAll(async () => {
  await rm(thermalRoot, { recursive: true, force: true });
});

async function zone(root: string, index: number, type: string, temp: string): Promise<void> {
  await mkdir(join(root, `thermal_zone${index}`), { recursive: true });
  await writeFile(join(root, `thermal_zone${index}`, 'type'), `${type}\n`);
  await writeFile(join(root, `thermal_zone${index}`, 'temp'), `${temp}\n`);
}

describe('SystemSensor', () => {
  it('returns numbers for cpu_percent, memory_percent, load_1m and uptime_s on this machine', async () => {
    const sensor = new SystemSensor();
    await sensor.setup();
    const readings = await sensor.read();
    for (const metric of ['cpu_percent', 'memory_percent', 'load_1m', 'uptime_s']) {
      expect(typeof valueOf(readings, metric)).toBe('number');
      expect(Number.isFinite(valueOf(readings, metric))).toBe(true);
    }
    expect(valueOf(readings, 'memory_percent') as number).toBeGreaterThan(0);
    expect(valueOf(readings, 'memory_percent') as number).toBeLessThanOrEqual(100);
    expect(valueOf(readings, 'uptime_s') as number).toBeGreaterThan(0);
    expect(sensor.sampleRate).toBe(1);
  });

  it('computes CPU usage from the tick deltas between reads', async () => {
    const system = scriptedSystem();
    const sensor = new SystemSensor({ system, thermalRoot: join(thermalRoot, 'absent') });
    await sensor.setup();

    system.advance(30, 70);
    const first = await sensor.read();
    system.advance(90, 10);
    const second = await sensor.read();
    const third = await sensor.read(); // no ticks elapsed: keeps the last figure

    expect([valueOf(first, 'cpu_percent'), valueOf(second, 'cpu_percent'), valueOf(third, 'cpu_percent')]).toEqual([30, 90, 90]);
    expect(valueOf(first, 'memory_percent')).toBe(75);
    expect(valueOf(first, 'load_1m')).toBe(0.75);
    expect(valueOf(first, 'uptime_s')).toBe(3600);
  });

  it('omits cpu_temp_c when there is no thermal zone', async () => {
    const sensor = new SystemSensor({ system: scriptedSystem(), thermalRoot: join(thermalRoot, 'absent') });
    await sensor.setup();
    expect(sensor.metrics).not.toContain('cpu_temp_c');
    expect(valueOf(await sensor.read(), 'cpu_temp_c')).toBeUndefined();
  });

  it('reads cpu_temp_c in °C, preferring a CPU zone over others', async () => {
    const root = join(thermalRoot, 'linux');
    await zone(root, 0, 'acpitz', '27800');
    await zone(root, 1, 'x86_pkg_temp', '48500');
    const sensor = new SystemSensor({ system: scriptedSystem(), thermalRoot: root });
    await sensor.setup();

    expect(sensor.metrics).toContain('cpu_temp_c');
    expect(valueOf(await sensor.read(), 'cpu_temp_c')).toBe(48.5);
  });

  it('falls back to the first readable zone and skips unreadable ones', async () => {
    const root = join(thermalRoot, 'pi');
    await zone(root, 0, 'battery', 'not a number');
    await zone(root, 2, 'board', '51234');
    const sensor = new SystemSensor({ system: scriptedSystem(), thermalRoot: root });
    await sensor.setup();
    expect(valueOf(await sensor.read(), 'cpu_temp_c')).toBe(51.234);
  });
});
