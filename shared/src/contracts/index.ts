export * from './common.js';
export * from './cursor.js';
export * from './device.js';
export * from './frames.js';
export * from './message.js';
export * from './rest.js';
export * from './room.js';
