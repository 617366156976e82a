/** The few I2C operations the sensor drivers need; real buses come from `openI2cBus`, tests use `FakeI2cBus`. */
export interface I2cBus {
  readByte(address: number, register: number): Promise<number>;
  readBlock(address: number, register: number, length: number): Promise<Buffer>;
  writeByte(address: number, register: number, value: number): Promise<void>;
  /** True when a device acknowledges at `address`. */
  probe(address: number): Promise<boolean>;
  close(): Promise<void>;
}

/** The subset of i2c-bus v5's PromisifiedBus we call (typed locally so @types/i2c-bus is not needed). */
export interface PromisifiedI2cBus {
  readByte(address: number, command: number): Promise<number>;
  readI2cBlock(address: number, command: number, length: number, buffer: Buffer): Promise<{ bytesRead: number; buffer: Buffer }>;
  writeByte(address: number, command: number, byte: number): Promise<void>;
  receiveByte(address: number): Promise<number>;
  i2cRead(address: number, length: number, buffer: Buffer): Promise<{ bytesRead: number; buffer: Buffer }>;
  close(): Promise<void>;
}

export interface I2cBusModule {
  openPromisified(busNumber: number): Promise<PromisifiedI2cBus>;
}

export type I2cModuleLoader = () => Promise<unknown>;

// A variable specifier keeps TypeScript from resolving the optional package at compile time.
const I2C_MODULE = 'i2c-bus';
const loadI2cModule: I2cModuleLoader = () => import(I2C_MODULE);

/** SMBus "read I2C block" transfers at most 32 bytes. */
const MAX_BLOCK_LENGTH = 32;

export async function openI2cBus(busNumber: number, load: I2cModuleLoader = loadI2cModule): Promise<I2cBus> {
  if (!Number.isInteger(busNumber) || busNumber < 0) {
    throw new RangeError(`Invalid I2C bus number ${busNumber}: expected a non-negative integer (the N of /dev/i2c-N)`);
  }
  const i2c = await importI2cModule(load);
  let bus: PromisifiedI2cBus;
  try {
    bus = await i2c.openPromisified(busNumber);
  } catch (error) {
    throw new Error(`Cannot open I2C bus ${busNumber} (/dev/i2c-${busNumber}): ${messageOf(error)}`, { cause: error });
  }
  return wrapPromisifiedBus(bus);
}

async function importI2cModule(load: I2cModuleLoader): Promise<I2cBusModule> {
  let loaded: unknown;
  try {
    loaded = await load();
  } catch (error) {
    throw new Error(
      `I2C is not available: install the optional dependency i2c-bus (npm i i2c-bus) on a machine with /dev/i2c-N (${messageOf(error)})`,
      { cause: error },
    );
  }
  // i2c-bus is CommonJS: depending on how Node's loader sees its exports, the API is on the namespace or on `default`.
  for (const candidate of [loaded, (loaded as { default?: unknown } | null)?.default]) {
    if (typeof (candidate as Partial<I2cBusModule> | null)?.openPromisified === 'function') return candidate as I2cBusModule;
  }
  throw new Error('I2C is not available: the installed i2c-bus module has no openPromisified(); install i2c-bus v5 (npm i i2c-bus@5)');
}

export function wrapPromisifiedBus(bus: PromisifiedI2cBus): I2cBus {
  return {
    readByte: (address, register) => bus.readByte(address, register),
    async readBlock(address, register, length) {
      if (!Number.isInteger(length) || length < 1 || length > MAX_BLOCK_LENGTH) {
        throw new RangeError(`I2C block length must be 1..${MAX_BLOCK_LENGTH}, got ${length}`);
      }
      const { bytesRead, buffer } = await bus.readI2cBlock(address, register, length, Buffer.alloc(length));
      if (bytesRead !== length) {
        throw new Error(`Short I2C read from ${hex(address)} register ${hex(register)}: ${bytesRead} of ${length} bytes`);
      }
      return buffer;
    },
    writeByte: (address, register, value) => bus.writeByte(address, register, value),
    async probe(address) {
      // Like i2cdetect: a one-byte read does not change device state; some adapters lack SMBus receive-byte, so fall back to a raw read.
      try {
        await bus.receiveByte(address);
        return true;
      } catch {
        try {
          await bus.i2cRead(address, 1, Buffer.alloc(1));
          return true;
        } catch {
          return false;
        }
      }
    },
    close: () => bus.close(),
  };
}

export function hex(value: number): string {
  return `0x${value.toString(16).padStart(2, '0')}`;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
