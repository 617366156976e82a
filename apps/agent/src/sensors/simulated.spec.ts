import { describe, expect, it } from '@jest/globals';
import type { SensorReading } from './base-sensor.js';
import { createSimulatedSensors } from './simulated.js';

const asRecord = (readings: SensorReading[]) => Object.fromEntries(readings.map((reading) => [reading.metric, reading.value as number]));

describe('createSimulatedSensors', () => {
  it('provides an IMU with the MPU6050 metrics and an environment sensor', () => {
    const [imu, environment] = createSimulatedSensors();
    expect([imu.name, environment.name]).toEqual(['SimulatedIMU', 'SimulatedBME280']);
    expect(imu.metrics).toEqual(['accel_x', 'accel_y', 'accel_z', 'gyro_x', 'gyro_y', 'gyro_z']);
    expect(environment.metrics).toEqual(['temperature', 'humidity', 'pressure']);
  });

  it('produces plausible values for every declared metric', async () => {
    for (let i = 0; i < 50; i++) {
      const [imu, environment] = createSimulatedSensors();
      const motion = asRecord(await imu.read());
      const air = asRecord(await environment.read());
      expect(Object.keys(motion)).toEqual(imu.metrics);
      expect(Math.abs(motion.accel_z - 9.81)).toBeLessThan(0.2);
      expect(Math.abs(motion.accel_x)).toBeLessThan(1);
      expect(air.temperature).toBeGreaterThan(15);
      expect(air.temperature).toBeLessThan(30);
      expect(air.humidity).toBeGreaterThan(30);
      expect(air.humidity).toBeLessThan(60);
      expect(Math.abs(air.pressure - 1013.25)).toBeLessThan(5);
    }
  });

  it('moves smoothly over time and adds noise only around the wave', async () => {
    let now = 1_000_000;
    const quiet = createSimulatedSensors({ now: () => now, random: () => 0.5 });
    const start = asRecord(await quiet[0].read());
    now += 20; // one sample at 50 Hz
    const next = asRecord(await quiet[0].read());
    now += 1000;
    const later = asRecord(await quiet[0].read());

    expect(Math.abs(next.accel_x - start.accel_x)).toBeLessThan(0.02);
    expect(Math.abs(later.accel_x - start.accel_x)).toBeGreaterThan(0.05);

    const noisy = createSimulatedSensors({ now: () => 1_000_000, random: () => 1 });
    expect(asRecord(await noisy[0].read()).accel_x - start.accel_x).toBeCloseTo(0.02, 10);
  });
});
