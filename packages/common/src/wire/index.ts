export * from './bytes.js';
export * from './ranges.js';
export * from './messages.js';
export * from './codec.js';
export * from './columns.js';
