import { describe, expect, it } from '@jest/globals';
import { FakeI2cBus } from './fake-i2c-bus.js';

describe('FakeI2cBus', () => {
  it('reads registers, blocks across consecutive registers, and 0 for unset registers', async () => {
    const bus = new FakeI2cBus({ 0x68: { 0x75: 0x68, 0x3b: 0x12, 0x3c: 0x34 } });
    expect(await bus.readByte(0x68, 0x75)).toBe(0x68);
    expect([...(await bus.readBlock(0x68, 0x3b, 3))]).toEqual([0x12, 0x34, 0x00]);
  });

  it('records writes and reads them back', async () => {
    const bus = new FakeI2cBus({ 0x76: {} });
    await bus.writeByte(0x76, 0xf4, 0x27);
    expect(bus.writes).toEqual([{ address: 0x76, register: 0xf4, value: 0x27 }]);
    expect(await bus.readByte(0x76, 0xf4)).toBe(0x27);
  });

  it('answers probes only for present devices and fails transfers to absent ones', async () => {
    const bus = new FakeI2cBus({ 0x68: {} });
    expect(await bus.probe(0x68)).toBe(true);
    expect(await bus.probe(0x69)).toBe(false);
    await expect(bus.readByte(0x69, 0x75)).rejects.toThrow(/No I2C device at 0x69/);
    await expect(bus.writeByte(0x69, 0x6b, 0)).rejects.toThrow(/0x69/);
  });

  it('remembers that it was closed', async () => {
    const bus = new FakeI2cBus();
    await bus.close();
    expect(bus.closed).toBe(true);
  });
});
