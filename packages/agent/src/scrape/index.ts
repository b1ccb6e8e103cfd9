export * from './relabel.js';
export * from './target.js';
export * from './scraper.js';
export * from './loop.js';
export * from './sources.js';
export * from './pool.js';
export * from './manager.js';
export * from './discovery/index.js';
