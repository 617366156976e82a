import type { BaseSensor, SensorDescription, SensorReading } from './base-sensor.js';
import { messageOf } from './i2c.js';

/** Time source and timers; tests inject one or use Jest's fake timers. */
export interface HubClock {
  now(): number;
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const systemClock: HubClock = {
  now: () => Date.now(),
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};

export type ReadingsHandler = (sensor: BaseSensor, readings: SensorReading[]) => void;
export type ReadErrorHandler = (sensor: BaseSensor, error: Error) => void;

export interface SensorFailure {
  sensor: BaseSensor;
  error: Error;
}

export interface SensorStats {
  name: string;
  prefix: string;
  samples: number;
  errors: number;
  lastError?: string;
}

export const MAX_SAMPLE_RATE = 10000;

interface Slot {
  sensor: BaseSensor;
  timer?: unknown;
  inFlight?: Promise<void>;
  samples: number;
  errors: number;
  lastError?: string;
}

/** How long stop() waits for reads already on the bus before closing sensors. */
const STOP_GRACE_MS = 1000;

/** Runs sensors: one timer per sensor at its own rate; a failing sensor never stops the others. */
export class SensorHub {
  readonly failures: SensorFailure[] = [];
  private readonly slots: Slot[];
  private onReadings: ReadingsHandler | undefined;
  private running = false;

  constructor(
    sensors: BaseSensor[],
    private readonly clock: HubClock = systemClock,
    private readonly onReadError?: ReadErrorHandler,
  ) {
    this.slots = sensors.map((sensor) => ({ sensor, samples: 0, errors: 0 }));
  }

  get sensors(): BaseSensor[] {
    return this.slots.map((slot) => slot.sensor);
  }

  async start(onReadings: ReadingsHandler): Promise<void> {
    if (this.running) throw new Error('SensorHub is already started');
    this.running = true;
    this.onReadings = onReadings;
    // Sequential: sensors usually share one I2C bus.
    for (const slot of this.slots) {
      const { sensor } = slot;
      if (!sensor.available) continue;
      try {
        assertSampleRate(sensor.sampleRate);
        await sensor.setup();
      } catch (error) {
        sensor.available = false;
        this.failures.push({ sensor, error: toError(error) });
        continue;
      }
      if (!this.running) return; // stop() was called during setup
      this.schedule(slot);
    }
  }

  /**
   * Changes a sensor's rate live. `sensorName` is the sensor's name, or prefix + name to pick one
   * of several sensors sharing a name. Returns false when no sensor matches.
   * @throws RangeError when hz is not in (0, 10000]
   */
  setSampleRate(sensorName: string, hz: number): boolean {
    assertSampleRate(hz);
    const qualified = this.slots.filter(({ sensor }) => sensor.prefix !== '' && sensor.prefix + sensor.name === sensorName);
    const matches = qualified.length > 0 ? qualified : this.slots.filter(({ sensor }) => sensor.name === sensorName);
    for (const slot of matches) {
      slot.sensor.sampleRate = hz;
      if (slot.timer !== undefined) this.schedule(slot);
    }
    return matches.length > 0;
  }

  describe(): SensorDescription[] {
    return this.slots.map(({ sensor }) => sensor.describe());
  }

  stats(): SensorStats[] {
    return this.slots.map(({ sensor, samples, errors, lastError }) => ({
      name: sensor.name,
      prefix: sensor.prefix,
      samples,
      errors,
      ...(lastError === undefined ? {} : { lastError }),
    }));
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const slot of this.slots) this.unschedule(slot);
    await this.waitForReads();
    for (const { sensor } of this.slots) {
      try {
        await sensor.close();
      } catch {
        // Closing is best effort: the agent is shutting down and one stuck sensor must not block the rest.
      }
    }
  }

  private schedule(slot: Slot): void {
    this.unschedule(slot);
    slot.timer = this.clock.setInterval(() => this.sample(slot), 1000 / slot.sensor.sampleRate);
  }

  private unschedule(slot: Slot): void {
    if (slot.timer === undefined) return;
    this.clock.clearInterval(slot.timer);
    slot.timer = undefined;
  }

  private sample(slot: Slot): void {
    // A read slower than the interval skips ticks instead of piling up transfers on the bus.
    if (slot.inFlight) return;
    slot.inFlight = this.readOnce(slot).finally(() => {
      slot.inFlight = undefined;
    });
  }

  private async readOnce(slot: Slot): Promise<void> {
    const { sensor } = slot;
    const stampedAt = this.clock.now();
    try {
      const readings = await sensor.read();
      if (!this.running || readings.length === 0) return;
      slot.samples++;
      // Inside the try: a throwing consumer is counted against this sensor instead of escaping the timer.
      this.onReadings?.(
        sensor,
        readings.map((reading) => ({
          ...reading,
          metric: sensor.prefix + reading.metric,
          timestamp: reading.timestamp ?? stampedAt,
        })),
      );
    } catch (error) {
      const failure = toError(error);
      slot.errors++;
      slot.lastError = failure.message;
      try {
        this.onReadError?.(sensor, failure);
      } catch {
        // An error reporter that throws must not turn into an unhandled rejection in a timer.
      }
    }
  }

  private async waitForReads(): Promise<void> {
    const pending = this.slots.flatMap((slot) => (slot.inFlight ? [slot.inFlight] : []));
    if (pending.length === 0) return;
    let timeout: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => {
      timeout = setTimeout(resolve, STOP_GRACE_MS);
      timeout.unref?.();
    });
    await Promise.race([Promise.all(pending), grace]);
    clearTimeout(timeout);
  }
}

function assertSampleRate(hz: number): void {
  if (!Number.isFinite(hz) || hz <= 0 || hz > MAX_SAMPLE_RATE) {
    throw new RangeError(`Sample rate must be a number of Hz in (0, ${MAX_SAMPLE_RATE}], got ${hz}`);
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(messageOf(error));
}
