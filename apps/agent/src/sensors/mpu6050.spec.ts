import { describe, expect, it } from '@jest/globals';
import { FakeI2cBus } from './fake-i2c-bus.js';
import { Mpu6050 } from './mpu6050.js';
import { Mpu9250 } from './mpu9250.js';

const be16 = (value: number) => [(value >> 8) & 0xff, value & 0xff];

/** 14 bytes from ACCEL_XOUT_H (0x3B): accel xyz, temperature, gyro xyz, big-endian int16 each. */
function burst(raw: { ax: number; ay: number; az: number; temp?: number; gx: number; gy: number; gz: number }): number[] {
  return [raw.ax, raw.ay, raw.az, raw.temp ?? 0, raw.gx, raw.gy, raw.gz].flatMap(be16);
}

function busWithImu(whoAmI: number, address = 0x68): FakeI2cBus {
  const bus = new FakeI2cBus({ [address]: { 0x75: whoAmI, 0x6b: 0x40 /* SLEEP set, as at power-on */ } });
  bus.setRegisters(address, 0x3b, burst({ ax: -8192, ay: 0, az: 16384, temp: 0x1234, gx: 131, gy: -262, gz: 0 }));
  return bus;
}

describe('Mpu6050', () => {
  it('wakes the chip and selects ±2 g / ±250 °/s', async () => {
    const bus = busWithImu(0x68);
    await new Mpu6050(bus).setup();
    expect(bus.writes).toEqual([
      { address: 0x68, register: 0x6b, value: 0 },
      { address: 0x68, register: 0x1c, value: 0 },
      { address: 0x68, register: 0x1b, value: 0 },
    ]);
    expect(await bus.readByte(0x68, 0x6b)).toBe(0);
  });

  it('converts raw counts to m/s² and °/s', async () => {
    const sensor = new Mpu6050(busWithImu(0x68));
    await sensor.setup();
    const readings = Object.fromEntries((await sensor.read()).map((reading) => [reading.metric, reading.value]));
    expect(readings).toEqual({
      accel_x: -4.903325, // -8192 / 16384 g
      accel_y: 0,
      accel_z: 9.80665, // 16384 / 16384 g
      gyro_x: 1, // 131 / 131
      gyro_y: -2, // -262 / 131
      gyro_z: 0,
    });
  });

  it('emits exactly its declared metrics, without the die temperature', async () => {
    const sensor = new Mpu6050(busWithImu(0x68));
    await sensor.setup();
    expect((await sensor.read()).map((reading) => reading.metric)).toEqual(sensor.metrics);
  });

  it('reads the 14 bytes from the address it was given', async () => {
    const sensor = new Mpu6050(busWithImu(0x68, 0x69), 0x69);
    await sensor.setup();
    expect((await sensor.read())[2]).toEqual({ metric: 'accel_z', value: 9.80665 });
  });

  it.each([0x70, 0x71])('accepts the MPU6500/9250 family (WHO_AM_I %p)', async (whoAmI) => {
    await expect(new Mpu6050(busWithImu(whoAmI)).setup()).resolves.toBeUndefined();
  });

  it('throws on a WHO_AM_I mismatch, naming the address and the value read, without writing', async () => {
    const bus = busWithImu(0x12, 0x69);
    await expect(new Mpu6050(bus, 0x69).setup()).rejects.toThrow(/0x69.*read 0x12/);
    expect(bus.writes).toEqual([]);
  });

  it('fails setup with the address when nothing answers', async () => {
    await expect(new Mpu6050(new FakeI2cBus({})).setup()).rejects.toThrow(/MPU6050 at 0x68: no response/);
  });

  it('applies options', () => {
    const sensor = new Mpu6050(new FakeI2cBus({}), 0x68, { sampleRate: 200, prefix: 'left.' });
    expect(sensor.describe()).toMatchObject({
      name: 'MPU6050',
      sample_rate: 200,
      prefix: 'left.',
      metrics: expect.arrayContaining(['left.accel_x']),
    });
  });
});

describe('Mpu9250', () => {
  it('uses the MPU6050 scaling under its own name', async () => {
    const sensor = new Mpu9250(busWithImu(0x71));
    await sensor.setup();
    expect(sensor.name).toBe('MPU9250');
    expect(sensor.metrics).toEqual(['accel_x', 'accel_y', 'accel_z', 'gyro_x', 'gyro_y', 'gyro_z']);
    expect((await sensor.read()).find((reading) => reading.metric === 'gyro_y')?.value).toBe(-2);
  });

  it('rejects a plain MPU6050 (WHO_AM_I 0x68)', async () => {
    await expect(new Mpu9250(busWithImu(0x68)).setup()).rejects.toThrow(/MPU9250 at 0x68.*read 0x68.*expected 0x71/);
  });
});
