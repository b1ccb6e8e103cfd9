export { Streamer, HEADER_EPOCH, HEADER_HEARTBEAT, type StreamerOptions, type StreamerStats } from './streamer.js';
export { Lanes, type LaneSocket, type LaneOptions, type Welcome } from './lanes.js';
export { SeriesRegistry } from './registry.js';
export { Backoff } from './backoff.js';
export { encodeBlock, decodeBlock } from './block.js';
export { StreamMetrics } from './metrics.js';
