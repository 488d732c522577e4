export * from './common.js';
export * from './frames.js';
export * from './message.js';
export * from './room.js';
