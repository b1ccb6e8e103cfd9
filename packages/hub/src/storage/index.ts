export * from './types.js';
export { openStorage, LevelStorage, type OpenStorageOptions } from './db.js';
export { MemStorage } from './mem.js';
export { StorageLimitError, DEFAULT_RETENTION_MS, type StorageLimits, type EngineOptions as StorageEngineOptions } from './head.js';
export { encodeChunk, decodeChunk, newChunkSamples, type ChunkSamples } from './chunk.js';
