import { BaseSensor, type SensorReading } from './base-sensor.js';
import { IMU_METRICS } from './mpu6050.js';

/** Time and randomness sources, injectable so tests are deterministic. */
export interface SimulationSources {
  now?: () => number;
  random?: () => number;
}

const TWO_PI = 2 * Math.PI;

/** A slow sine of period `periodS` seconds plus uniform noise of ±`noise`. */
function wave(t: number, amplitude: number, periodS: number, phase: number, noise: number, random: () => number): number {
  return amplitude * Math.sin((TWO_PI * t) / periodS + phase) + (random() * 2 - 1) * noise;
}

/** A sensor whose readings are made up from the clock and a random source (both injectable for tests). */
abstract class SimulatedSensor extends BaseSensor {
  protected readonly now: () => number;
  protected readonly random: () => number;

  constructor(sources: SimulationSources = {}) {
    super();
    this.now = sources.now ?? Date.now;
    this.random = sources.random ?? Math.random;
  }
}

/** Stands in for an MPU6050 on machines without hardware: gentle sway, gravity on z. */
export class SimulatedImu extends SimulatedSensor {
  readonly name = 'SimulatedIMU';
  readonly metrics = [...IMU_METRICS];
  override description = 'Simulated 6-axis IMU (no hardware)';
  override sampleRate = 50;
  read(): SensorReading[] {
    const t = this.now() / 1000;
    const r = this.random;
    const values: Record<string, number> = {
      accel_x: wave(t, 0.5, 4, 0, 0.02, r),
      accel_y: wave(t, 0.3, 6, 1, 0.02, r),
      accel_z: 9.81 + wave(t, 0.1, 3, 2, 0.02, r),
      gyro_x: wave(t, 5, 5, 0.5, 0.1, r),
      gyro_y: wave(t, 3, 7, 1.5, 0.1, r),
      gyro_z: wave(t, 2, 9, 2.5, 0.1, r),
    };
    return this.metrics.map((metric) => ({ metric, value: values[metric] }));
  }
}

/** Stands in for a BME280: a room drifting slowly around 22 °C, 45 %RH, 1013 hPa. */
export class SimulatedEnvironment extends SimulatedSensor {
  readonly name = 'SimulatedBME280';
  readonly metrics = ['temperature', 'humidity', 'pressure'];
  override description = 'Simulated temperature, humidity and pressure (no hardware)';
  override sampleRate = 1;
  read(): SensorReading[] {
    const t = this.now() / 1000;
    const r = this.random;
    return [
      { metric: 'temperature', value: 22 + wave(t, 1.5, 600, 0, 0.05, r) },
      { metric: 'humidity', value: 45 + wave(t, 5, 900, 1, 0.2, r) },
      { metric: 'pressure', value: 1013.25 + wave(t, 2, 1800, 2, 0.05, r) },
    ];
  }
}

export function createSimulatedSensors(sources: SimulationSources = {}): BaseSensor[] {
  return [new SimulatedImu(sources), new SimulatedEnvironment(sources)];
}
