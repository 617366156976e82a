import type { BaseSensor } from './base-sensor.js';
import { BME280_ADDRESSES, BME280_CHIP_ID, Bme280 } from './bme280.js';
import { hex, type I2cBus } from './i2c.js';
import { Mpu6050 } from './mpu6050.js';
import { Mpu9250 } from './mpu9250.js';

const MPU_ADDRESSES = [0x68, 0x69];
const MPU_WHO_AM_I_REGISTER = 0x75;
const BOSCH_CHIP_ID_REGISTER = 0xd0;

/** The range i2cdetect scans: 0x00..0x02 and 0x78..0x7F are reserved addresses. */
export const FIRST_SCAN_ADDRESS = 0x03;
export const LAST_SCAN_ADDRESS = 0x77;

/**
 * Finds the sensors this agent has drivers for. Returned sensors are not set up yet (the hub does that).
 * When two sensors of one kind answer (e.g. MPUs at 0x68 and 0x69), the second gets a prefix so their metrics stay apart.
 */
export async function detectSensors(bus: I2cBus): Promise<BaseSensor[]> {
  const found: { sensor: BaseSensor; address: number }[] = [];
  for (const address of MPU_ADDRESSES) {
    const whoAmI = await identify(bus, address, MPU_WHO_AM_I_REGISTER);
    // 0x70 is the MPU6500, whose accel/gyro registers match the MPU6050's.
    if (whoAmI === 0x68 || whoAmI === 0x70) found.push({ sensor: new Mpu6050(bus, address), address });
    else if (whoAmI === 0x71) found.push({ sensor: new Mpu9250(bus, address), address });
  }
  for (const address of BME280_ADDRESSES) {
    if ((await identify(bus, address, BOSCH_CHIP_ID_REGISTER)) === BME280_CHIP_ID) {
      found.push({ sensor: new Bme280(bus, address), address });
    }
  }
  const seen = new Set<string>();
  for (const { sensor, address } of found) {
    if (seen.has(sensor.name)) sensor.prefix = `${sensor.name.toLowerCase()}_${hex(address)}.`;
    seen.add(sensor.name);
  }
  return found.map(({ sensor }) => sensor);
}

export interface ScannedDevice {
  address: number;
  /** A best guess from the address (and an ID register where one is known); 'unknown' otherwise. */
  chip: string;
}

/** Like `i2cdetect -y N`: every responding address in 0x03..0x77 with a guessed chip name. */
export async function scanBus(bus: I2cBus): Promise<ScannedDevice[]> {
  const devices: ScannedDevice[] = [];
  for (let address = FIRST_SCAN_ADDRESS; address <= LAST_SCAN_ADDRESS; address++) {
    if (await bus.probe(address).catch(() => false)) devices.push({ address, chip: await guessChip(bus, address) });
  }
  return devices;
}

const MPU_NAMES: Record<number, string> = { 0x68: 'MPU6050', 0x70: 'MPU6500', 0x71: 'MPU9250', 0x73: 'MPU9255' };
const BOSCH_NAMES: Record<number, string> = {
  0x55: 'BMP180',
  0x56: 'BMP280',
  0x57: 'BMP280',
  0x58: 'BMP280',
  0x60: 'BME280',
  0x61: 'BME680',
};

/** Common breakout boards by address; many chips share addresses, hence the alternatives. */
const BY_ADDRESS: Record<number, string> = {
  0x0c: 'AK8963 magnetometer',
  0x1e: 'HMC5883L magnetometer',
  0x23: 'BH1750 light sensor',
  0x27: 'PCF8574 I/O expander (LCD backpack)',
  0x29: 'VL53L0X / TSL2591',
  0x39: 'TSL2561 / APDS-9960',
  0x3c: 'SSD1306 OLED',
  0x3d: 'SSD1306 OLED',
  0x40: 'INA219 / HTU21D / PCA9685',
  0x44: 'SHT3x',
  0x45: 'SHT3x',
  0x48: 'ADS1115 / TMP102',
  0x49: 'ADS1115 / TMP102',
  0x4a: 'ADS1115',
  0x4b: 'ADS1115',
  0x50: 'AT24C EEPROM',
  0x53: 'ADXL345',
  0x57: 'AT24C EEPROM (DS3231 module)',
  0x5a: 'MLX90614 / CCS811',
  0x62: 'SCD4x',
  0x68: 'DS1307 / DS3231 RTC',
  0x69: 'MPU-compatible IMU',
  0x70: 'TCA9548A I2C multiplexer',
  0x76: 'BMP280 / BME280 / MS5611',
  0x77: 'BMP180 / BMP280 / BME280 / BME680',
};

async function guessChip(bus: I2cBus, address: number): Promise<string> {
  if (MPU_ADDRESSES.includes(address)) {
    const name = MPU_NAMES[(await identify(bus, address, MPU_WHO_AM_I_REGISTER)) ?? -1];
    if (name) return name;
  }
  if (BME280_ADDRESSES.includes(address)) {
    const name = BOSCH_NAMES[(await identify(bus, address, BOSCH_CHIP_ID_REGISTER)) ?? -1];
    if (name) return name;
  }
  return BY_ADDRESS[address] ?? 'unknown';
}

/** Reads an ID register; undefined when nothing answers (absence is normal while detecting). */
async function identify(bus: I2cBus, address: number, register: number): Promise<number | undefined> {
  try {
    if (!(await bus.probe(address))) return undefined;
    return await bus.readByte(address, register);
  } catch {
    return undefined;
  }
}
