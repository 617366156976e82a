import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { BaseSensor, type SensorReading } from './base-sensor.js';
import { applySensorOptions, type SensorOptions } from './sensor-options.js';

/** The node:os calls the sensor uses, injectable so tests can drive CPU deltas. */
export interface SystemInfo {
  cpus(): Pick<os.CpuInfo, 'times'>[];
  totalmem(): number;
  freemem(): number;
  loadavg(): number[];
  uptime(): number;
}

export interface SystemSensorOptions extends SensorOptions {
  system?: SystemInfo;
  /** Where thermal zones live; only Linux has it. */
  thermalRoot?: string;
}

interface CpuTicks {
  idle: number;
  total: number;
}

/** Zone types that report the CPU package or SoC rather than e.g. a battery or a Wi-Fi chip. */
const CPU_ZONE_TYPE = /cpu|x86_pkg|soc|core|k10temp|tctl|package/i;

/** Host metrics from node:os; cpu_temp_c only where /sys/class/thermal has a readable zone. */
export class SystemSensor extends BaseSensor {
  readonly name = 'system';
  readonly metrics = ['cpu_percent', 'memory_percent', 'load_1m', 'uptime_s'];
  override description = 'Host CPU, memory, load average, uptime and CPU temperature';
  override sampleRate = 1;
  private readonly system: SystemInfo;
  private readonly thermalRoot: string;
  private previousTicks: CpuTicks;
  private lastCpuPercent = 0;
  private thermalFile: string | undefined;

  constructor(options: SystemSensorOptions = {}) {
    super();
    this.system = options.system ?? os;
    this.thermalRoot = options.thermalRoot ?? '/sys/class/thermal';
    applySensorOptions(this, options);
    // A baseline now means even the first read() reports usage over a real interval.
    this.previousTicks = this.cpuTicks();
  }

  override async setup(): Promise<void> {
    this.thermalFile = await this.findThermalZone();
    if (this.thermalFile && !this.metrics.includes('cpu_temp_c')) this.metrics.push('cpu_temp_c');
  }

  async read(): Promise<SensorReading[]> {
    const total = this.system.totalmem();
    const readings: SensorReading[] = [
      { metric: 'cpu_percent', value: this.cpuPercent() },
      { metric: 'memory_percent', value: total > 0 ? ((total - this.system.freemem()) / total) * 100 : 0 },
      { metric: 'load_1m', value: this.system.loadavg()[0] ?? 0 },
      { metric: 'uptime_s', value: this.system.uptime() },
    ];
    if (this.thermalFile) {
      const celsius = await readMilliCelsius(this.thermalFile);
      if (celsius !== undefined) readings.push({ metric: 'cpu_temp_c', value: celsius });
    }
    return readings;
  }

  private cpuPercent(): number {
    const ticks = this.cpuTicks();
    const total = ticks.total - this.previousTicks.total;
    const idle = ticks.idle - this.previousTicks.idle;
    // Reads closer together than the kernel's tick see no change; repeat the last figure rather than report 0.
    if (total > 0) {
      this.lastCpuPercent = Math.min(100, Math.max(0, ((total - idle) / total) * 100));
      this.previousTicks = ticks;
    }
    return this.lastCpuPercent;
  }

  private cpuTicks(): CpuTicks {
    let idle = 0;
    let total = 0;
    for (const { times } of this.system.cpus()) {
      idle += times.idle;
      total += times.user + times.nice + times.sys + times.idle + times.irq;
    }
    return { idle, total };
  }

  private async findThermalZone(): Promise<string | undefined> {
    let entries: string[];
    try {
      entries = (await readdir(this.thermalRoot)).filter((entry) => entry.startsWith('thermal_zone')).sort(byZoneNumber);
    } catch {
      return undefined; // not Linux, or no thermal drivers
    }
    let fallback: string | undefined;
    for (const zone of entries) {
      const file = join(this.thermalRoot, zone, 'temp');
      if ((await readMilliCelsius(file)) === undefined) continue;
      const type = await readFile(join(this.thermalRoot, zone, 'type'), 'utf8').catch(() => '');
      if (CPU_ZONE_TYPE.test(type)) return file;
      fallback ??= file;
    }
    return fallback;
  }
}

function byZoneNumber(a: string, b: string): number {
  return Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, ''));
}

async function readMilliCelsius(file: string): Promise<number | undefined> {
  try {
    const value = Number.parseInt(await readFile(file, 'utf8'), 10);
    return Number.isFinite(value) ? value / 1000 : undefined;
  } catch {
    return undefined; // some zones exist but fail with EIO/ENODATA while their device sleeps
  }
}
