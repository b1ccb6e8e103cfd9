export { Streamer, HEADER_EPOCH, HEADER_HEARTBEAT, type StreamerOptions, type StreamerStats } from './streamer.js';
export { SeriesRegistry } from './registry.js';
export { Backoff } from './backoff.js';
export { encodeBlock, decodeBlock } from './block.js';
export { StreamMetrics } from './metrics.js';
