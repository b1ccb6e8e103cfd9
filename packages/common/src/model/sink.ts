import type { MetricMetadata, Sample } from './sample.js';

/**
 * Where collected samples go. On the agent the scrape manager, the push sampler and the host exporter write
 * here and the streamer (durable buffer + WebSocket link) implements it; on the hub, pushed groups are written
 * into the store through one. `write` must not throw for a full buffer: the buffer drops its oldest data and
 * counts it.
 */
export interface SampleSink {
  write(samples: readonly Sample[], metadata?: readonly MetricMetadata[]): void;
}
