export * from './client.js';
export * from './connect.js';
export * from './consumer.js';
export * from './endpoint.js';
export * from './envelope.js';
export * from './server.js';
export * from './streams.js';
export * from './subjects.js';
