export * from './lifecycle.js';
export * from './metrics.js';
export * from './periodic.js';
export * from './server.js';
export * from './wake-signal.js';
