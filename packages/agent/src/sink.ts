import type { MetricMetadata, Sample } from '@vigil/common';

/**
 * Where collected samples go: the scrape manager, the push receiver and the host exporter
 * write here; the streamer (durable buffer + WebSocket link) implements it.
 * `write` must not throw for a full buffer: the buffer drops its oldest data and counts it.
 */
export interface SampleSink {
  write(samples: readonly Sample[], metadata?: readonly MetricMetadata[]): void;
}
