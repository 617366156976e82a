import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { BaseSensor, type SensorReading } from './base-sensor.js';
import { SensorHub } from './sensor-hub.js';

class CountingSensor extends BaseSensor {
  readonly metrics = ['value'];
  reads = 0;
  closed = false;

  constructor(
    readonly name: string,
    rate: number,
    private readonly behaviour: { failSetup?: boolean; failRead?: boolean; timestamp?: number } = {},
  ) {
    super();
    this.sampleRate = rate;
  }

  override async setup(): Promise<void> {
    if (this.behaviour.failSetup) throw new Error(`${this.name}: chip not found`);
  }

  read(): SensorReading[] {
    this.reads++;
    if (this.behaviour.failRead) throw new Error(`${this.name}: bus error`);
    return [
      { metric: 'value', value: this.reads, ...(this.behaviour.timestamp === undefined ? {} : { timestamp: this.behaviour.timestamp }) },
    ];
  }

  override async close(): Promise<void> {
    this.closed = true;
  }
}

type Delivery = { sensor: string; readings: SensorReading[] };

function collector() {
  const deliveries: Delivery[] = [];
  const count = (name: string) => deliveries.filter((delivery) => delivery.sensor === name).length;
  const onReadings = (sensor: BaseSensor, readings: SensorReading[]) => deliveries.push({ sensor: sensor.name, readings });
  return { deliveries, count, onReadings };
}

describe('SensorHub', () => {
  let hub: SensorHub | undefined;

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_700_000_000_000 });
  });

  afterEach(async () => {
    await hub?.stop();
    hub = undefined;
    jest.useRealTimers();
  });

  it('samples each sensor at its own rate', async () => {
    const fast = new CountingSensor('fast', 10);
    const slow = new CountingSensor('slow', 2);
    const { count, onReadings } = collector();
    hub = new SensorHub([fast, slow]);
    await hub.start(onReadings);

    await jest.advanceTimersByTimeAsync(1000);

    expect(count('fast')).toBe(10);
    expect(count('slow')).toBe(2);
  });

  it('changes the observed rate live with setSampleRate', async () => {
    const sensor = new CountingSensor('imu', 10);
    const { count, onReadings } = collector();
    hub = new SensorHub([sensor]);
    await hub.start(onReadings);
    await jest.advanceTimersByTimeAsync(1000);
    expect(count('imu')).toBe(10);

    expect(hub.setSampleRate('imu', 50)).toBe(true);
    await jest.advanceTimersByTimeAsync(1000);

    expect(count('imu')).toBe(60);
    expect(hub.describe()[0].sample_rate).toBe(50);
  });

  it('returns false for an unknown sensor and rejects rates outside (0, 10000] Hz', async () => {
    hub = new SensorHub([new CountingSensor('imu', 10)]);
    await hub.start(() => undefined);
    expect(hub.setSampleRate('nope', 5)).toBe(false);
    for (const hz of [0, -1, 10001, Number.NaN]) expect(() => hub?.setSampleRate('imu', hz)).toThrow(RangeError);
    expect(hub.describe()[0].sample_rate).toBe(10);
  });

  it('keeps sampling the other sensors when one read() throws, and counts its errors', async () => {
    const broken = new CountingSensor('broken', 10, { failRead: true });
    const healthy = new CountingSensor('healthy', 10);
    const errors: string[] = [];
    const { count, onReadings } = collector();
    hub = new SensorHub([broken, healthy], undefined, (_sensor, error) => errors.push(error.message));
    await hub.start(onReadings);

    await jest.advanceTimersByTimeAsync(500);

    expect(count('healthy')).toBe(5);
    expect(count('broken')).toBe(0);
    expect(broken.reads).toBe(5);
    expect(hub.stats()).toEqual([
      { name: 'broken', prefix: '', samples: 0, errors: 5, lastError: 'broken: bus error' },
      { name: 'healthy', prefix: '', samples: 5, errors: 0 },
    ]);
    expect(errors).toHaveLength(5);
  });

  it('applies the prefix and stamps readings that have no timestamp', async () => {
    const left = new CountingSensor('imu', 10);
    left.prefix = 'left.';
    const stamped = new CountingSensor('clocked', 10, { timestamp: 42 });
    const { deliveries, onReadings } = collector();
    hub = new SensorHub([left, stamped]);
    await hub.start(onReadings);

    await jest.advanceTimersByTimeAsync(100);

    expect(deliveries).toEqual([
      { sensor: 'imu', readings: [{ metric: 'left.value', value: 1, timestamp: 1_700_000_000_100 }] },
      { sensor: 'clocked', readings: [{ metric: 'value', value: 1, timestamp: 42 }] },
    ]);
  });

  it('marks a sensor whose setup throws unavailable, keeps its error and never reads it', async () => {
    const missing = new CountingSensor('missing', 10, { failSetup: true });
    const present = new CountingSensor('present', 10);
    const { count, onReadings } = collector();
    hub = new SensorHub([missing, present]);
    await hub.start(onReadings);
    await jest.advanceTimersByTimeAsync(300);

    expect(missing.available).toBe(false);
    expect(missing.reads).toBe(0);
    expect(count('present')).toBe(3);
    expect(hub.failures.map(({ sensor, error }) => [sensor.name, error.message])).toEqual([['missing', 'missing: chip not found']]);
    expect(hub.describe().map(({ name, available }) => [name, available])).toEqual([
      ['missing', false],
      ['present', true],
    ]);
  });

  it('selects one of two same-named sensors by prefix + name', async () => {
    const left = new CountingSensor('imu', 10);
    const right = new CountingSensor('imu', 10);
    left.prefix = 'left.';
    right.prefix = 'right.';
    hub = new SensorHub([left, right]);
    await hub.start(() => undefined);

    expect(hub.setSampleRate('right.imu', 20)).toBe(true);
    await jest.advanceTimersByTimeAsync(1000);

    expect([left.reads, right.reads]).toEqual([10, 20]);
  });

  it('does not start overlapping reads of a sensor slower than its interval', async () => {
    let resolveRead: (() => void) | undefined;
    let started = 0;
    class SlowSensor extends BaseSensor {
      readonly name = 'slow';
      readonly metrics = ['value'];
      override sampleRate = 100;
      read(): Promise<SensorReading[]> {
        started++;
        return new Promise((resolve) => (resolveRead = () => resolve([{ metric: 'value', value: 1 }])));
      }
    }
    const { count, onReadings } = collector();
    hub = new SensorHub([new SlowSensor()]);
    await hub.start(onReadings);

    await jest.advanceTimersByTimeAsync(100);
    expect(started).toBe(1);
    resolveRead?.();
    await jest.advanceTimersByTimeAsync(10);

    expect(count('slow')).toBe(1);
    expect(started).toBe(2);
    resolveRead?.();
  });

  it('stops all timers and closes every sensor on stop()', async () => {
    const a = new CountingSensor('a', 10);
    const b = new CountingSensor('b', 5);
    const { deliveries, onReadings } = collector();
    const stopped = new SensorHub([a, b]);
    await stopped.start(onReadings);
    await jest.advanceTimersByTimeAsync(200);
    const before = deliveries.length;

    await stopped.stop();
    await jest.advanceTimersByTimeAsync(1000);

    expect(before).toBe(3); // a at 100 and 200 ms, b at 200 ms
    expect(deliveries).toHaveLength(before);
    expect([a.closed, b.closed]).toEqual([true, true]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('uses an injected clock instead of global timers', async () => {
    const intervals: { callback: () => void; ms: number }[] = [];
    const clock = {
      now: () => 5,
      setInterval: (callback: () => void, ms: number) => intervals.push({ callback, ms }),
      clearInterval: () => undefined,
    };
    const { deliveries, onReadings } = collector();
    const injected = new SensorHub([new CountingSensor('a', 4)], clock);
    await injected.start(onReadings);

    expect(intervals.map(({ ms }) => ms)).toEqual([250]);
    intervals[0].callback();
    await Promise.resolve();
    await Promise.resolve();
    expect(deliveries).toEqual([{ sensor: 'a', readings: [{ metric: 'value', value: 1, timestamp: 5 }] }]);
  });
});
