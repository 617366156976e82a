import { hex, type I2cBus } from './i2c.js';

export type I2cRegisterMap = { [address: number]: { [register: number]: number } };

export interface I2cWrite {
  address: number;
  register: number;
  value: number;
}

/**
 * An in-memory I2C bus: devices are register maps. Writes are recorded and also stored, so a
 * register reads back what was written, as on most chips. Unset registers read as 0.
 */
export class FakeI2cBus implements I2cBus {
  readonly writes: I2cWrite[] = [];
  closed = false;
  private readonly devices = new Map<number, Map<number, number>>();

  constructor(devices: I2cRegisterMap = {}) {
    for (const [address, registers] of Object.entries(devices)) {
      const map = new Map<number, number>();
      for (const [register, value] of Object.entries(registers)) map.set(Number(register), value & 0xff);
      this.devices.set(Number(address), map);
    }
  }

  /** Sets consecutive registers starting at `register` (e.g. a new ADC sample between reads). */
  setRegisters(address: number, register: number, bytes: ArrayLike<number>): void {
    const device = this.device(address);
    for (let i = 0; i < bytes.length; i++) device.set(register + i, bytes[i] & 0xff);
  }

  async readByte(address: number, register: number): Promise<number> {
    return this.device(address).get(register) ?? 0;
  }

  async readBlock(address: number, register: number, length: number): Promise<Buffer> {
    const device = this.device(address);
    return Buffer.from(Array.from({ length }, (_, i) => device.get(register + i) ?? 0));
  }

  async writeByte(address: number, register: number, value: number): Promise<void> {
    this.device(address).set(register, value & 0xff);
    this.writes.push({ address, register, value });
  }

  async probe(address: number): Promise<boolean> {
    return this.devices.has(address);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private device(address: number): Map<number, number> {
    const device = this.devices.get(address);
    // Mirrors the kernel's ENXIO when nothing acknowledges the address.
    if (!device) throw Object.assign(new Error(`No I2C device at ${hex(address)} (ENXIO)`), { code: 'ENXIO' });
    return device;
  }
}
