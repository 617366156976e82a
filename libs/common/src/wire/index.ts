export * from './limits.js';
export * from './fields.js';
export * from './device-frames.js';
export * from './browser-frames.js';
export * from './alerts.js';
