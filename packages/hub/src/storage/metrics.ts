import { Counter, Gauge, type Registry } from 'prom-client';
import type { Storage, StorageStats } from './types.js';

/**
 * The store's figures on the hub's /metrics, read from `stats()` at scrape time (one call per scrape,
 * shared by every metric through a short-lived cache).
 */
export function registerStorageMetrics(storage: Storage & { stats?: () => StorageStats }, registry: Registry): void {
  if (!storage.stats) return;
  const stats = storage.stats.bind(storage);
  let cached: { at: number; value: StorageStats } | undefined;
  const read = () => {
    const now = Date.now();
    if (!cached || now - cached.at > 1000) cached = { at: now, value: stats() };
    return cached.value;
  };
  const registers = [registry];
  const gauge = (name: string, help: string, pick: (s: StorageStats) => number) =>
    new Gauge({ name, help, registers, collect() { this.set(pick(read())); } });
  const counter = (name: string, help: string, pick: (s: StorageStats) => number) =>
    new Counter({ name, help, registers, collect() { const v = pick(read()); this.reset(); this.inc(v); } });
  gauge('vigil_hub_series_active', 'Series with samples in the store.', (s) => s.seriesActive);
  gauge('vigil_hub_head_series', 'Series with samples in the in-memory head.', (s) => s.headSeries);
  gauge('vigil_hub_head_samples', 'Samples in the in-memory head (durable in the write-ahead log).', (s) => s.headSamples);
  gauge('vigil_hub_wal_bytes', 'Size of the write-ahead log.', (s) => s.walBytes);
  gauge('vigil_hub_chunks', 'Compressed chunks on disk.', (s) => s.chunks);
  gauge('vigil_hub_chunk_bytes', 'Bytes of compressed chunks.', (s) => s.chunkBytes);
  counter('vigil_hub_storage_samples_appended_total', 'Samples appended to the store by every ingest path.', (s) => s.samplesAppended);
  counter('vigil_hub_storage_duplicate_samples_total', 'Samples dropped because the series already had that timestamp with the same value.', (s) => s.duplicates);
  counter('vigil_hub_storage_conflicting_samples_total', 'Samples dropped because the series already had that timestamp with another value (first kept).', (s) => s.conflicts);
  counter('vigil_hub_storage_rejected_samples_total', 'Samples refused by the store (retention, limits).', (s) => s.rejected);
  counter('vigil_hub_storage_flushes_total', 'Head flushes into compressed chunks.', (s) => s.flushes);
}
