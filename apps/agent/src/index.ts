export * from './sensors/base-sensor.js';
export * from './sdk/index.js';
export * from './sensors/index.js';
export { DeviceClient, type DeviceClientOptions } from './device/device-client.js';
