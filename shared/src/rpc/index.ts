export * from './answer-budget.js';
export * from './messages.js';
export * from './notifier.js';
export * from './rooms.js';
