export * from './client.js';
export type { HistoryFilter } from './rest.js';
export * from './types.js';
