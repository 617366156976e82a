import { describe, expect, it } from '@jest/globals';
import { Bme280 } from './bme280.js';
import { parseBme280Calibration } from './bme280-compensation.js';
import { FakeI2cBus } from './fake-i2c-bus.js';

// The example trimming values published with the Bosch datasheet, plus humidity values picked for this test.
const CAL = {
  T1: 27504,
  T2: 26435,
  T3: -1000,
  P1: 36477,
  P2: -10685,
  P3: 3024,
  P4: 2855,
  P5: 140,
  P6: -7,
  P7: 15500,
  P8: -14600,
  P9: 6000,
  H1: 75,
  H2: 362,
  H3: 3,
  H4: 313,
  H5: 50,
  H6: 30,
};
const ADC_T = 519888;
const ADC_P = 415148;
const ADC_H = 31000;

/** Little-endian 16-bit, as the chip stores dig_T1..dig_P9 and dig_H2. */
const le16 = (value: number) => [value & 0xff, (value >> 8) & 0xff];

function calibrationRegisters(): Record<number, number> {
  const low = [
    ...le16(CAL.T1),
    ...le16(CAL.T2),
    ...le16(CAL.T3),
    ...le16(CAL.P1),
    ...le16(CAL.P2),
    ...le16(CAL.P3),
    ...le16(CAL.P4),
    ...le16(CAL.P5),
    ...le16(CAL.P6),
    ...le16(CAL.P7),
    ...le16(CAL.P8),
    ...le16(CAL.P9),
    0x00, // 0xA0, unused
    CAL.H1, // 0xA1
  ];
  const high = [
    ...le16(CAL.H2), // 0xE1, 0xE2
    CAL.H3, // 0xE3
    (CAL.H4 >> 4) & 0xff, // 0xE4: H4[11:4]
    ((CAL.H5 & 0x0f) << 4) | (CAL.H4 & 0x0f), // 0xE5: H5[3:0] | H4[3:0]
    (CAL.H5 >> 4) & 0xff, // 0xE6: H5[11:4]
    CAL.H6 & 0xff, // 0xE7
  ];
  const registers: Record<number, number> = { 0xd0: 0x60 };
  low.forEach((byte, i) => (registers[0x88 + i] = byte));
  high.forEach((byte, i) => (registers[0xe1 + i] = byte));
  return registers;
}

/** press msb/lsb/xlsb, temp msb/lsb/xlsb, hum msb/lsb: 20-bit values are left-aligned, xlsb holds bits 3..0 in its high nibble. */
function dataBytes(adcP: number, adcT: number, adcH: number): number[] {
  return [adcP >> 12, (adcP >> 4) & 0xff, (adcP & 0x0f) << 4, adcT >> 12, (adcT >> 4) & 0xff, (adcT & 0x0f) << 4, adcH >> 8, adcH & 0xff];
}

function busWithBme280(address = 0x77): FakeI2cBus {
  const bus = new FakeI2cBus({ [address]: calibrationRegisters() });
  bus.setRegisters(address, 0xf7, dataBytes(ADC_P, ADC_T, ADC_H));
  return bus;
}

describe('BME280 calibration', () => {
  it('decodes every trimming parameter, including the H4/H5 nibble packing', () => {
    const low = Buffer.from(Array.from({ length: 26 }, (_, i) => calibrationRegisters()[0x88 + i]));
    const high = Buffer.from(Array.from({ length: 7 }, (_, i) => calibrationRegisters()[0xe1 + i]));
    expect(parseBme280Calibration(low, high)).toEqual({
      dig_T1: 27504,
      dig_T2: 26435,
      dig_T3: -1000,
      dig_P1: 36477,
      dig_P2: -10685,
      dig_P3: 3024,
      dig_P4: 2855,
      dig_P5: 140,
      dig_P6: -7,
      dig_P7: 15500,
      dig_P8: -14600,
      dig_P9: 6000,
      dig_H1: 75,
      dig_H2: 362,
      dig_H3: 3,
      dig_H4: 313,
      dig_H5: 50,
      dig_H6: 30,
    });
  });

  it('sign-extends negative H4, H5 and H6 from their 12-bit and 8-bit fields', () => {
    const low = Buffer.alloc(26);
    // H4 = -30 is 0xFE2 in 12 bits: 0xE4 = 0xFE, 0xE5 low nibble = 0x2. H5 = -6 is 0xFFA: 0xE6 = 0xFF, 0xE5 high nibble = 0xA.
    const high = Buffer.from([0, 0, 0, 0xfe, 0xa2, 0xff, 0xf6]);
    const calibration = parseBme280Calibration(low, high);
    expect(calibration.dig_H4).toBe(-30);
    expect(calibration.dig_H5).toBe(-6);
    expect(calibration.dig_H6).toBe(-10);
  });
});

describe('Bme280', () => {
  it('compensates temperature, pressure and humidity exactly as the datasheet integer routines', async () => {
    const sensor = new Bme280(busWithBme280(), 0x77);
    await sensor.setup();
    const readings = await sensor.read();
    const value = (metric: string) => readings.find((reading) => reading.metric === metric)?.value;

    // Temperature, worked by hand:
    //   var1 = ((519888>>3) - 27504*2) * 26435 >> 11 = (64986 - 55008) * 26435 >> 11 = 263768930 >> 11 = 128793
    //   d = (519888>>4) - 27504 = 4989; var2 = ((4989*4989 >> 12) * -1000) >> 14 = (6076 * -1000) >> 14 = -371
    //   t_fine = 128422; T = (128422*5 + 128) >> 8 = 2508
    expect(value('temperature')).toBe(25.08);

    // Pressure (int64), worked by hand from t_fine = 128422:
    //   var1 = 422; var2 = 422²·-7 = -1246588; + (422·140)<<17 = 7742487172; + 2855<<35 = 98104795527812
    //   var1 = (422²·3024 >> 8) + (422·-10685 << 12) = 2103617 - 18469150720 = -18467047103
    //   var1 = ((2^47 - 18467047103) · 36477) >> 33 = 597560748
    //   p = 1048576 - 415148 = 633428; p = ((633428<<31) - 98104795527812)·3125 / 597560748 = 6600644165 (truncated)
    //   var1 = 6000·(p>>13)² >> 25 = 116089612; var2 = -14600·p >> 19 = -183810053
    //   p = ((6600644165 + 116089612 - 183810053) >> 8) + 15500·16 = 25519233 + 248000 = 25767233 (Q24.8 Pa)
    expect(value('pressure')).toBe(25767233 / 256 / 100);
    expect(value('pressure') as number).toBeCloseTo(1006.53, 2);

    // Humidity, worked by hand from t_fine = 128422: v = 128422 - 76800 = 51622
    //   offset = ((31000<<14) - (313<<20) - 50·51622 + 16384) >> 15 = (507904000 - 328204288 - 2581100 + 16384) >> 15 = 5405
    //   h3 = (51622·3 >> 11) + 32768 = 32843; h6 = ((51622·30 >> 10) · 32843) >> 10 = (1512·32843) >> 10 = 48494
    //   gain = ((48494 + 2097152)·362 + 8192) >> 14 = 47407; v = 5405·47407 = 256234835
    //   v -= (((v>>15)² >> 7)·75) >> 4 = ((7819² >> 7)·75) >> 4 = 2238890 → 253995945; H = v >> 12 = 62010 (Q22.10)
    expect(value('humidity')).toBe(62010 / 1024);
  });

  it('agrees with the datasheet floating-point formulas to within their resolution', async () => {
    const sensor = new Bme280(busWithBme280(), 0x77);
    await sensor.setup();
    const readings = Object.fromEntries((await sensor.read()).map((reading) => [reading.metric, reading.value as number]));
    // Section 8.1 double-precision results for the same inputs: 25.0825 °C, 1006.5327 hPa, 60.5608 %RH.
    expect(readings.temperature).toBeCloseTo(25.0825, 1);
    expect(readings.pressure).toBeCloseTo(1006.5327, 2);
    expect(Math.abs(readings.humidity - 60.5608)).toBeLessThan(0.01);
  });

  it('checks the chip id then writes ctrl_hum, config and ctrl_meas (ctrl_meas last)', async () => {
    const bus = busWithBme280(0x77);
    await new Bme280(bus, 0x77).setup();
    expect(bus.writes).toEqual([
      { address: 0x77, register: 0xf2, value: 0x01 },
      { address: 0x77, register: 0xf5, value: 0xa0 },
      { address: 0x77, register: 0xf4, value: 0x27 },
    ]);
  });

  it('rejects a chip whose id is not 0x60, naming what was found', async () => {
    const bus = new FakeI2cBus({ 0x76: { 0xd0: 0x58 } });
    await expect(new Bme280(bus).setup()).rejects.toThrow(/0x76.*0x58.*BMP280/);
    expect(bus.writes).toEqual([]);
  });

  it('fails setup with the address when nothing answers', async () => {
    await expect(new Bme280(new FakeI2cBus({}), 0x77).setup()).rejects.toThrow(/BME280 at 0x77: no response/);
  });

  it('refuses addresses other than 0x76 and 0x77', () => {
    expect(() => new Bme280(new FakeI2cBus({}), 0x40)).toThrow(RangeError);
  });

  it('reports no value while the data registers still hold their reset value', async () => {
    const bus = busWithBme280();
    const sensor = new Bme280(bus, 0x77);
    await sensor.setup();
    bus.setRegisters(0x77, 0xf7, dataBytes(0x80000, 0x80000, 0x8000));
    await expect(sensor.read()).rejects.toThrow(/no measurement/);
  });

  it('leaves out humidity and pressure when their measurement was skipped', async () => {
    const bus = busWithBme280();
    const sensor = new Bme280(bus, 0x77);
    await sensor.setup();
    bus.setRegisters(0x77, 0xf7, dataBytes(0x80000, ADC_T, 0x8000));
    expect(await sensor.read()).toEqual([{ metric: 'temperature', value: 25.08 }]);
  });
});
