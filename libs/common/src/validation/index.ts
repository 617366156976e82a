export * from './bounded-json.js';
export * from './json-depth.js';
export * from './text-safety.js';
export * from './key-name.js';
