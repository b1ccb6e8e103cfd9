export * from './types.js';
export * from './static.js';
export * from './file.js';
export * from './http.js';
export * from './dns.js';
