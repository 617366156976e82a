import { hostname, type as osType } from 'node:os';
import { effectiveConfig, plexusDir } from '../config.js';
import { DeviceClient } from '../device/device-client.js';
import type { BaseSensor } from '../sensors/base-sensor.js';
import { loadCustomSensors } from '../sensors/custom-sensor.js';
import { detectSensors } from '../sensors/detect.js';
import { openI2cBus } from '../sensors/i2c.js';
import { SensorHub } from '../sensors/sensor-hub.js';
import { createSimulatedSensors } from '../sensors/simulated.js';
import { SystemSensor } from '../sensors/system-sensor.js';
import { CliError, EXIT } from './cli-error.js';
import { requestJson } from './http.js';

export interface RunOptions {
  name?: string;
  sensors: boolean;
  simulate?: boolean;
  bus: string;
  sensor: string[];
  exec: boolean;
}

async function gatherSensors(options: RunOptions, log: (line: string) => void): Promise<BaseSensor[]> {
  const sensors: BaseSensor[] = [];
  if (options.sensors) {
    sensors.push(new SystemSensor());
    try {
      const bus = await openI2cBus(Number(options.bus));
      const found = await detectSensors(bus);
      for (const sensor of found) log(`found ${sensor.name} on I2C bus ${options.bus}`);
      sensors.push(...found);
    } catch (error) {
      log(`no I2C sensors: ${(error as Error).message}`);
    }
  }
  if (options.simulate) sensors.push(...createSimulatedSensors());
  for (const path of options.sensor) {
    try {
      sensors.push(...(await loadCustomSensors(path)));
    } catch (error) {
      throw new CliError(`sensor not found: ${(error as Error).message}`, EXIT.sensor);
    }
  }
  return sensors;
}

/** `plexus run`: connects, streams what the dashboard asks for, until stopped or refused. */
export async function run(options: RunOptions, log: (line: string) => void): Promise<void> {
  const config = await effectiveConfig();
  if (!config.device_token && !config.api_key) {
    throw new CliError(
      'this device is not paired: run "plexus pair --code ABC123" first (or set PLEXUS_DEVICE_TOKEN or PLEXUS_API_KEY)',
      EXIT.notPaired,
    );
  }
  const sourceId =
    config.source_id ||
    options.name ||
    hostname()
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-');
  let wsUrl = config.ws_url;
  if (!wsUrl) {
    const answer = await requestJson(`${config.endpoint}/api/config`);
    if (answer.status !== 200 || typeof answer.body.ws_url !== 'string')
      throw new CliError(`${config.endpoint} did not say where its WebSocket is`, EXIT.unreachable);
    wsUrl = answer.body.ws_url;
  }
  const sensors = await gatherSensors(options, log);
  const hub = new SensorHub(sensors);
  const client = new DeviceClient({
    wsUrl,
    orgId: config.org_id,
    sourceId,
    deviceToken: config.device_token,
    apiKey: config.api_key,
    platform: osType(),
    sensors: hub,
    allowExec: options.exec,
    stateDir: plexusDir(),
    log,
  });
  await hub.start((_sensor, readings) => client.onReadings(readings));
  log(
    `streaming as ${sourceId} to ${wsUrl} with ${sensors.length ? sensors.map((s) => s.name).join(', ') : 'no sensors'}${options.exec ? '' : ' (remote commands off)'}`,
  );
  await client.start();
  const stop = async () => {
    await hub.stop();
    await client.stop();
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  const reason = await client.finished;
  await hub.stop();
  if (reason) throw new CliError(reason, EXIT.stopped);
}
