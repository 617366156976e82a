export { BaseSensor, type SensorDescription, type SensorReading } from './base-sensor.js';
export { applySensorOptions, type SensorOptions } from './sensor-options.js';
export { openI2cBus, type I2cBus } from './i2c.js';
export { FakeI2cBus, type I2cRegisterMap, type I2cWrite } from './fake-i2c-bus.js';
export { IMU_METRICS, Mpu6050 } from './mpu6050.js';
export { Mpu9250 } from './mpu9250.js';
export { Bme280 } from './bme280.js';
export { parseBme280Calibration, type Bme280Calibration } from './bme280-compensation.js';
export { SystemSensor, type SystemSensorOptions } from './system-sensor.js';
export { createSimulatedSensors, SimulatedEnvironment, SimulatedImu, type SimulationSources } from './simulated.js';
export {
  MAX_SAMPLE_RATE,
  SensorHub,
  systemClock,
  type HubClock,
  type ReadErrorHandler,
  type ReadingsHandler,
  type SensorFailure,
  type SensorStats,
} from './sensor-hub.js';
export { detectSensors, scanBus, type ScannedDevice } from './detect.js';
export { loadCustomSensors, ObjectSensor, type SensorLike } from './custom-sensor.js';
