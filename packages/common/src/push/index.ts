export * from './grouping.js';
export * from './store.js';
export * from './routes.js';
export * from './protobuf.js';
export * from './sampler.js';
