export * from './settings.js';
export * from './verifier.js';
