import { BaseSensor, type SensorReading } from './base-sensor.js';
import {
  CALIB_00_25_LENGTH,
  CALIB_26_32_LENGTH,
  compensateHumidity,
  compensatePressure,
  compensateTemperature,
  parseBme280Calibration,
  type Bme280Calibration,
} from './bme280-compensation.js';
import { hex, messageOf, type I2cBus } from './i2c.js';
import { applySensorOptions, type SensorOptions } from './sensor-options.js';

const CHIP_ID_REGISTER = 0xd0;
export const BME280_CHIP_ID = 0x60;
const CALIB_00 = 0x88;
const CALIB_26 = 0xe1;
const CTRL_HUM = 0xf2;
const CTRL_MEAS = 0xf4;
const CONFIG = 0xf5;
/** press_msb: pressure (20 bit), temperature (20 bit), humidity (16 bit). */
const PRESS_MSB = 0xf7;
const DATA_LENGTH = 8;

/** Humidity oversampling ×1. */
const CTRL_HUM_VALUE = 0x01;
/** Temperature ×1, pressure ×1, normal mode. */
const CTRL_MEAS_VALUE = 0x27;
/** Standby 1000 ms, IIR filter off, no 3-wire SPI. */
const CONFIG_VALUE = 0xa0;

/** What the data registers hold when a measurement was skipped or has not happened yet. */
const SKIPPED_20BIT = 0x80000;
const SKIPPED_HUMIDITY = 0x8000;

export const BME280_ADDRESSES = [0x76, 0x77];

/** Bosch BME280: temperature (°C), relative humidity (%RH), pressure (hPa). */
export class Bme280 extends BaseSensor {
  readonly name = 'BME280';
  readonly metrics = ['temperature', 'humidity', 'pressure'];
  override description = 'Bosch BME280 temperature, humidity and pressure (I2C)';
  // With a 1000 ms standby time the chip produces about one sample per second.
  override sampleRate = 1;
  private calibration: Bme280Calibration | undefined;

  constructor(
    private readonly bus: I2cBus,
    readonly address = 0x76,
    options: SensorOptions = {},
  ) {
    super();
    if (!BME280_ADDRESSES.includes(address)) {
      throw new RangeError(`BME280 address must be 0x76 or 0x77 (SDO pin low/high), got ${hex(address)}`);
    }
    applySensorOptions(this, options);
  }

  override async setup(): Promise<void> {
    let chipId: number;
    try {
      chipId = await this.bus.readByte(this.address, CHIP_ID_REGISTER);
    } catch (error) {
      throw new Error(`BME280 at ${hex(this.address)}: no response on the I2C bus (${messageOf(error)})`, { cause: error });
    }
    if (chipId !== BME280_CHIP_ID) {
      const bmp = chipId >= 0x56 && chipId <= 0x58 ? ' (a BMP280, which has no humidity sensor)' : '';
      throw new Error(`BME280 at ${hex(this.address)}: chip id (register 0xD0) read ${hex(chipId)}${bmp}, expected 0x60`);
    }
    this.calibration = parseBme280Calibration(
      await this.bus.readBlock(this.address, CALIB_00, CALIB_00_25_LENGTH),
      await this.bus.readBlock(this.address, CALIB_26, CALIB_26_32_LENGTH),
    );
    // ctrl_hum only takes effect on the next ctrl_meas write, and config writes may be ignored in normal mode,
    // so ctrl_meas (which starts normal mode) goes last.
    await this.bus.writeByte(this.address, CTRL_HUM, CTRL_HUM_VALUE);
    await this.bus.writeByte(this.address, CONFIG, CONFIG_VALUE);
    await this.bus.writeByte(this.address, CTRL_MEAS, CTRL_MEAS_VALUE);
  }

  async read(): Promise<SensorReading[]> {
    const calibration = this.calibration;
    if (!calibration) throw new Error(`BME280 at ${hex(this.address)}: read() before setup()`);
    // One burst read so the three values come from the same measurement cycle.
    const d = await this.bus.readBlock(this.address, PRESS_MSB, DATA_LENGTH);
    const adcP = (d[0] << 12) | (d[1] << 4) | (d[2] >> 4);
    const adcT = (d[3] << 12) | (d[4] << 4) | (d[5] >> 4);
    const adcH = (d[6] << 8) | d[7];
    if (adcT === SKIPPED_20BIT) throw new Error(`BME280 at ${hex(this.address)}: no measurement available yet`);

    const { temperature, tFine } = compensateTemperature(adcT, calibration);
    const readings: SensorReading[] = [{ metric: 'temperature', value: temperature / 100 }];
    if (adcH !== SKIPPED_HUMIDITY) {
      readings.push({ metric: 'humidity', value: compensateHumidity(adcH, tFine, calibration) / 1024 });
    }
    if (adcP !== SKIPPED_20BIT) {
      readings.push({ metric: 'pressure', value: compensatePressure(adcP, tFine, calibration) / 256 / 100 });
    }
    return readings;
  }
}
