import { describe, expect, it, jest } from '@jest/globals';
import { openI2cBus, type PromisifiedI2cBus } from './i2c.js';

function fakePromisifiedBus(overrides: Partial<PromisifiedI2cBus> = {}): PromisifiedI2cBus {
  return {
    readByte: async () => 0x68,
    readI2cBlock: async (_address, _command, length, buffer) => {
      for (let i = 0; i < length; i++) buffer[i] = i + 1;
      return { bytesRead: length, buffer };
    },
    writeByte: async () => undefined,
    receiveByte: async () => 0,
    i2cRead: async (_address, length, buffer) => ({ bytesRead: length, buffer }),
    close: async () => undefined,
    ...overrides,
  };
}

describe('openI2cBus', () => {
  it('explains how to get I2C when the optional i2c-bus package is missing', async () => {
    const missing = Object.assign(new Error("Cannot find package 'i2c-bus'"), { code: 'ERR_MODULE_NOT_FOUND' });
    await expect(openI2cBus(1, () => Promise.reject(missing))).rejects.toThrow(
      /I2C is not available: install the optional dependency i2c-bus \(npm i i2c-bus\) on a machine with \/dev\/i2c-N/,
    );
  });

  it('uses openPromisified whether it is a named export or on the CommonJS default', async () => {
    const openPromisified = jest.fn(async (_busNumber: number) => fakePromisifiedBus());
    await openI2cBus(1, async () => ({ openPromisified }));
    await openI2cBus(3, async () => ({ default: { openPromisified } }));
    expect(openPromisified.mock.calls).toEqual([[1], [3]]);
  });

  it('names the device file when the bus cannot be opened', async () => {
    const openPromisified = async () => {
      throw new Error('ENOENT, no such file or directory');
    };
    await expect(openI2cBus(7, async () => ({ openPromisified }))).rejects.toThrow(/bus 7 \(\/dev\/i2c-7\).*ENOENT/);
  });

  it('rejects a bus number that cannot be /dev/i2c-N', async () => {
    await expect(openI2cBus(-1, async () => ({}))).rejects.toThrow(RangeError);
  });

  it('maps the interface onto the promisified i2c-bus calls', async () => {
    const writeByte = jest.fn(async (_address: number, _command: number, _byte: number) => undefined);
    const bus = await openI2cBus(1, async () => ({ openPromisified: async () => fakePromisifiedBus({ writeByte }) }));
    expect(await bus.readByte(0x68, 0x75)).toBe(0x68);
    expect([...(await bus.readBlock(0x68, 0x3b, 4))]).toEqual([1, 2, 3, 4]);
    await bus.writeByte(0x68, 0x6b, 0);
    expect(writeByte).toHaveBeenCalledWith(0x68, 0x6b, 0);
  });

  it('fails a short block read instead of returning stale bytes', async () => {
    const readI2cBlock = async (_address: number, _command: number, _length: number, buffer: Buffer) => ({ bytesRead: 2, buffer });
    const bus = await openI2cBus(1, async () => ({ openPromisified: async () => fakePromisifiedBus({ readI2cBlock }) }));
    await expect(bus.readBlock(0x68, 0x3b, 14)).rejects.toThrow(/Short I2C read.*2 of 14/);
  });

  it('probes with receive-byte, falls back to a raw read, and reports absence as false', async () => {
    const nack = async () => {
      throw new Error('Remote I/O error');
    };
    const present = await openI2cBus(1, async () => ({ openPromisified: async () => fakePromisifiedBus() }));
    const rawOnly = await openI2cBus(1, async () => ({ openPromisified: async () => fakePromisifiedBus({ receiveByte: nack }) }));
    const absent = await openI2cBus(1, async () => ({
      openPromisified: async () => fakePromisifiedBus({ receiveByte: nack, i2cRead: nack }),
    }));
    expect([await present.probe(0x68), await rawOnly.probe(0x68), await absent.probe(0x68)]).toEqual([true, true, false]);
  });
});
