export * from './sink.js';
export * from './scrape/index.js';
export * from './push/index.js';
export * from './buffer/index.js';
export * from './stream/index.js';
export const VERSION = '0.1.0';
