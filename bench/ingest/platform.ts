// The bench starts the stack the same way the whole-platform tests do.
export { Platform } from '../../test/support/platform.js';
