import { BaseSensor, type SensorReading } from './base-sensor.js';
import { hex, messageOf, type I2cBus } from './i2c.js';
import { applySensorOptions, type SensorOptions } from './sensor-options.js';

const PWR_MGMT_1 = 0x6b;
const WHO_AM_I = 0x75;
const ACCEL_CONFIG = 0x1c;
const GYRO_CONFIG = 0x1b;
/** ACCEL_XOUT_H: accel xyz, temperature, gyro xyz, each a big-endian int16. */
const ACCEL_XOUT_H = 0x3b;
const BURST_LENGTH = 14;

const STANDARD_GRAVITY = 9.80665;
/** LSB per g at ±2 g (ACCEL_CONFIG = 0). */
const ACCEL_LSB_PER_G = 16384;
/** LSB per °/s at ±250 °/s (GYRO_CONFIG = 0). */
const GYRO_LSB_PER_DPS = 131;

export const IMU_METRICS = ['accel_x', 'accel_y', 'accel_z', 'gyro_x', 'gyro_y', 'gyro_z'];

/** WHO_AM_I values of the InvenSense chips that share the MPU6050 register map for accel/gyro. */
export const MPU_WHO_AM_I: Readonly<Record<number, string>> = { 0x68: 'MPU6050', 0x70: 'MPU6500', 0x71: 'MPU9250' };

/** InvenSense MPU6050 6-axis IMU at ±2 g / ±250 °/s: accel in m/s², gyro in °/s. */
export class Mpu6050 extends BaseSensor {
  readonly name: string = 'MPU6050';
  readonly metrics = [...IMU_METRICS];
  override description = 'InvenSense MPU6050 accelerometer + gyroscope (I2C)';
  override sampleRate = 50;
  /** WHO_AM_I values setup() accepts; the 6500/9250 family answers the MPU6050 register map too. */
  protected acceptedWhoAmI: readonly number[] = [0x68, 0x70, 0x71];

  constructor(
    protected readonly bus: I2cBus,
    readonly address = 0x68,
    options: SensorOptions = {},
  ) {
    super();
    applySensorOptions(this, options);
  }

  override async setup(): Promise<void> {
    let whoAmI: number;
    try {
      whoAmI = await this.bus.readByte(this.address, WHO_AM_I);
    } catch (error) {
      throw new Error(`${this.name} at ${hex(this.address)}: no response on the I2C bus (${messageOf(error)})`, { cause: error });
    }
    // Identify before writing: a different chip at this address must not get our configuration bytes.
    if (!this.acceptedWhoAmI.includes(whoAmI)) {
      throw new Error(
        `${this.name} at ${hex(this.address)}: WHO_AM_I (register 0x75) read ${hex(whoAmI)}, expected ${this.acceptedWhoAmI.map(hex).join(' or ')}`,
      );
    }
    await this.bus.writeByte(this.address, PWR_MGMT_1, 0x00); // clears SLEEP, which is set at power-on
    await this.bus.writeByte(this.address, ACCEL_CONFIG, 0x00);
    await this.bus.writeByte(this.address, GYRO_CONFIG, 0x00);
  }

  async read(): Promise<SensorReading[]> {
    // One burst read so the six axes come from the same sample.
    const data = await this.bus.readBlock(this.address, ACCEL_XOUT_H, BURST_LENGTH);
    if (data.length < BURST_LENGTH) {
      throw new Error(`${this.name} at ${hex(this.address)}: short read (${data.length} of ${BURST_LENGTH} bytes)`);
    }
    const accel = (offset: number) => (data.readInt16BE(offset) / ACCEL_LSB_PER_G) * STANDARD_GRAVITY;
    const gyro = (offset: number) => data.readInt16BE(offset) / GYRO_LSB_PER_DPS;
    return [
      { metric: 'accel_x', value: accel(0) },
      { metric: 'accel_y', value: accel(2) },
      { metric: 'accel_z', value: accel(4) },
      // bytes 6..7 are the die temperature, not exposed
      { metric: 'gyro_x', value: gyro(8) },
      { metric: 'gyro_y', value: gyro(10) },
      { metric: 'gyro_z', value: gyro(12) },
    ];
  }
}
