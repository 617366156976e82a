import { access } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BaseSensor, type SensorReading } from './base-sensor.js';
import { messageOf } from './i2c.js';

/** The minimal shape a user's sensor object needs; everything else is optional. */
export interface SensorLike {
  name: string;
  metrics: string[];
  read(): Promise<SensorReading[]> | SensorReading[];
  setup?(): Promise<void> | void;
  close?(): Promise<void> | void;
  description?: string;
  sampleRate?: number;
  prefix?: string;
}

const LOADABLE_EXTENSIONS = ['.js', '.mjs', '.cjs'];

/**
 * Loads sensors from a user's ES module (`plexus run --sensor ./my-sensor.js`). Accepted exports, default
 * or named: BaseSensor subclasses (constructed with no arguments), BaseSensor instances, plain objects
 * with { name, metrics, read }, or arrays of those.
 */
export async function loadCustomSensors(path: string): Promise<BaseSensor[]> {
  const file = resolve(process.cwd(), path);
  if (!LOADABLE_EXTENSIONS.includes(extname(file))) {
    throw new Error(`Custom sensor file ${file} must be JavaScript (.js or .mjs); compile TypeScript first`);
  }
  try {
    await access(file);
  } catch {
    throw new Error(`Custom sensor file not found: ${file}`);
  }
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`Could not load custom sensor file ${file}: ${messageOf(error)}`, { cause: error });
  }

  const sensors: BaseSensor[] = [];
  // A CommonJS file exposes the same values as `default` and as named exports; take each once.
  const seen = new Set<unknown>();
  const candidates = [
    exports.default,
    ...Object.entries(exports)
      .filter(([key]) => key !== 'default')
      .map(([, value]) => value),
  ];
  for (const candidate of candidates.flatMap((value) => (Array.isArray(value) ? value : [value]))) {
    if (seen.has(candidate)) continue;
    seen.add(candidate);
    const sensor = toSensor(candidate, file);
    if (sensor) sensors.push(sensor);
  }
  if (sensors.length === 0) {
    throw new Error(
      `Custom sensor file ${file} exports no usable sensor: export a BaseSensor subclass or instance, or an object with { name, metrics, read }`,
    );
  }
  return sensors;
}

function toSensor(value: unknown, file: string): BaseSensor | undefined {
  if (value instanceof BaseSensor) return value;
  if (isSensorClass(value)) {
    let instance: unknown;
    try {
      instance = new value();
    } catch (error) {
      throw new Error(
        `Custom sensor ${value.name || 'class'} from ${file} could not be constructed with no arguments: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
    if (instance instanceof BaseSensor) return instance;
    if (isSensorLike(instance)) return new ObjectSensor(instance);
    throw new Error(`Custom sensor ${value.name || 'class'} from ${file} needs a string name, a metrics array and read()`);
  }
  // Also covers subclasses of another copy of BaseSensor (e.g. a globally installed agent), which fail instanceof.
  if (isSensorLike(value)) return new ObjectSensor(value);
  return undefined;
}

type Constructor = (new () => unknown) & { name: string };

/** Classes only: plain helper functions exported alongside a sensor must not be called. */
function isSensorClass(value: unknown): value is Constructor {
  if (typeof value !== 'function') return false;
  const prototype: unknown = value.prototype;
  return typeof prototype === 'object' && prototype !== null && typeof (prototype as { read?: unknown }).read === 'function';
}

function isSensorLike(value: unknown): value is SensorLike {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<SensorLike>;
  return (
    typeof candidate.name === 'string' &&
    candidate.name !== '' &&
    Array.isArray(candidate.metrics) &&
    candidate.metrics.every((metric) => typeof metric === 'string') &&
    typeof candidate.read === 'function'
  );
}

/** Adapts a plain { name, metrics, read } object to BaseSensor. */
export class ObjectSensor extends BaseSensor {
  readonly name: string;
  readonly metrics: string[];

  constructor(private readonly source: SensorLike) {
    super();
    this.name = source.name;
    this.metrics = [...source.metrics];
    if (typeof source.description === 'string') this.description = source.description;
    if (typeof source.sampleRate === 'number') this.sampleRate = source.sampleRate;
    if (typeof source.prefix === 'string') this.prefix = source.prefix;
  }

  override async setup(): Promise<void> {
    await this.source.setup?.();
  }

  read(): Promise<SensorReading[]> | SensorReading[] {
    return this.source.read();
  }

  override async close(): Promise<void> {
    await this.source.close?.();
  }
}
