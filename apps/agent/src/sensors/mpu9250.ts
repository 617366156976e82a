import { Mpu6050 } from './mpu6050.js';

/** InvenSense MPU9250: the MPU6050 accel/gyro registers and scaling; its AK8963 magnetometer is not read. */
export class Mpu9250 extends Mpu6050 {
  override readonly name: string = 'MPU9250';
  override description = 'InvenSense MPU9250 accelerometer + gyroscope (I2C)';
  protected override acceptedWhoAmI: readonly number[] = [0x71];
}
