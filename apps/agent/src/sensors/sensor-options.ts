import type { BaseSensor } from './base-sensor.js';

/** Per-instance settings every built-in sensor accepts. */
export interface SensorOptions {
  sampleRate?: number;
  prefix?: string;
  description?: string;
}

export function applySensorOptions(sensor: BaseSensor, options: SensorOptions): void {
  if (options.sampleRate !== undefined) sensor.sampleRate = options.sampleRate;
  if (options.prefix !== undefined) sensor.prefix = options.prefix;
  if (options.description !== undefined) sensor.description = options.description;
}
