import { describe, expect, it } from '@jest/globals';
import { Bme280 } from './bme280.js';
import { detectSensors, scanBus } from './detect.js';
import { FakeI2cBus } from './fake-i2c-bus.js';
import { Mpu6050 } from './mpu6050.js';
import { Mpu9250 } from './mpu9250.js';

function bench(): FakeI2cBus {
  return new FakeI2cBus({
    0x68: { 0x75: 0x68 }, // MPU6050
    0x77: { 0xd0: 0x60 }, // BME280
    0x3c: {}, // an OLED display, no driver here
  });
}

describe('detectSensors', () => {
  it('finds the MPU6050 at 0x68 and the BME280 at 0x77, not the unrelated device', async () => {
    const sensors = await detectSensors(bench());
    expect(sensors.map((sensor) => sensor.constructor)).toEqual([Mpu6050, Bme280]);
    expect(sensors.map((sensor) => [sensor.name, (sensor as Mpu6050 | Bme280).address])).toEqual([
      ['MPU6050', 0x68],
      ['BME280', 0x77],
    ]);
  });

  it('tells the MPU family apart by WHO_AM_I and ignores unknown chips', async () => {
    const bus = new FakeI2cBus({ 0x68: { 0x75: 0x71 }, 0x69: { 0x75: 0x70 }, 0x76: { 0xd0: 0x58 } });
    const sensors = await detectSensors(bus);
    expect(sensors.map((sensor) => sensor.constructor)).toEqual([Mpu9250, Mpu6050]);
    expect(await detectSensors(new FakeI2cBus({ 0x68: { 0x75: 0x00 } }))).toEqual([]);
  });

  it('prefixes the second of two identical sensors so their metrics do not collide', async () => {
    const bus = new FakeI2cBus({ 0x68: { 0x75: 0x68 }, 0x69: { 0x75: 0x68 } });
    const sensors = await detectSensors(bus);
    expect(sensors.map((sensor) => sensor.prefix)).toEqual(['', 'mpu6050_0x69.']);
  });

  it('returns sensors that work once set up', async () => {
    const bus = bench();
    const [mpu] = await detectSensors(bus);
    await mpu.setup();
    expect(bus.writes[0]).toEqual({ address: 0x68, register: 0x6b, value: 0 });
  });
});

describe('scanBus', () => {
  it('lists every responding address with a guessed chip name', async () => {
    expect(await scanBus(bench())).toEqual([
      { address: 0x3c, chip: 'SSD1306 OLED' },
      { address: 0x68, chip: 'MPU6050' },
      { address: 0x77, chip: 'BME280' },
    ]);
  });

  it('falls back to the address table or "unknown" when the ID register is not recognised', async () => {
    const bus = new FakeI2cBus({ 0x68: { 0x75: 0x00 }, 0x03: {}, 0x77: { 0xd0: 0x61 }, 0x78: {} });
    expect(await scanBus(bus)).toEqual([
      { address: 0x03, chip: 'unknown' },
      { address: 0x68, chip: 'DS1307 / DS3231 RTC' },
      { address: 0x77, chip: 'BME680' },
    ]);
  });
});
