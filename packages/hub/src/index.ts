export * from './storage/types.js';
export * from './storage/index.js';
export * from './promql/index.js';
export * from './ingest/index.js';
export * from './api/index.js';
export const VERSION = '0.1.0';
