import { scanBus } from '../sensors/detect.js';
import { openI2cBus } from '../sensors/i2c.js';
import { SystemSensor } from '../sensors/system-sensor.js';
import { CliError, EXIT } from './cli-error.js';

/** `plexus scan`: what sensors this machine has. */
export async function scan(options: { bus: string }, log: (line: string) => void): Promise<void> {
  log(`system: ${new SystemSensor().metrics.join(', ')}`);
  let bus;
  try {
    bus = await openI2cBus(Number(options.bus));
  } catch (error) {
    throw new CliError(`cannot scan I2C bus ${options.bus}: ${(error as Error).message}`, EXIT.sensor);
  }
  try {
    const found = await scanBus(bus);
    if (!found.length) log(`I2C bus ${options.bus}: no devices answered`);
    for (const device of found)
      log(`I2C bus ${options.bus}: 0x${device.address.toString(16).padStart(2, '0')} ${device.chip ?? 'unknown device'}`);
  } finally {
    await bus.close();
  }
}
