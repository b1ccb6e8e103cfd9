export { DiskBuffer, openBuffer, type DiskBufferOptions, type BlockInfo, type BufferStats } from './queue.js';
