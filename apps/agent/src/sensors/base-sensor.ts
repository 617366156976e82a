/** One reading: a metric's value at a time (Unix milliseconds; the hub stamps it when absent). */
export interface SensorReading {
  metric: string;
  value: number | string | boolean | Record<string, unknown> | unknown[];
  timestamp?: number;
  tags?: Record<string, string | number | boolean>;
}

/** How a sensor is described to the platform in `device_auth` (the contract's field names). */
export interface SensorDescription {
  name: string;
  description: string;
  metrics: string[];
  sample_rate: number;
  prefix: string;
  available: boolean;
}

/**
 * A sensor: a name, the metrics it produces, how often it is sampled (Hz), and `read()`.
 * Subclass it for your own hardware and load it with `plexus run --sensor ./my-sensor.js`.
 */
export abstract class BaseSensor {
  abstract readonly name: string;
  abstract readonly metrics: string[];
  description = '';
  /** Samples per second; `configure { sample_rate }` from the dashboard changes it. */
  sampleRate = 10;
  /** Prepended to every metric name (e.g. "left." for a second IMU). */
  prefix = '';
  available = true;

  /** Called once before the first read: open the bus, check the chip, load calibration. */
  async setup(): Promise<void> {}

  abstract read(): Promise<SensorReading[]> | SensorReading[];

  /** Called when the agent stops. */
  async close(): Promise<void> {}

  describe(): SensorDescription {
    return {
      name: this.name,
      description: this.description,
      metrics: this.metrics.map((metric) => this.prefix + metric),
      sample_rate: this.sampleRate,
      prefix: this.prefix,
      available: this.available,
    };
  }
}
