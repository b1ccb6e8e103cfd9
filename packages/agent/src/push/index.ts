export * from './sampler.js';
