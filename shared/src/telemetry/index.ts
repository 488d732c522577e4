export * from './context.js';
export * from './sdk.js';
