export * from './messages.js';
export * from './rooms.js';
