import type { Labels, Matcher, MetricMetadata } from '@vigil/common';

/** Opaque per-store reference to a series, returned by `Appender.append` for fast re-appends. */
export type SeriesRef = number;

/** Counts of what a commit did; duplicates and conflicts are not errors (DESIGN.md §7). */
export interface AppendStats {
  appended: number;
  /** Same series and timestamp already stored with the same value: dropped. */
  duplicates: number;
  /** Same series and timestamp already stored with another value: dropped, first kept. */
  conflicts: number;
  /** Samples older than retention or otherwise rejected. */
  rejected: number;
  /** Series created by this commit. */
  newSeries: number;
  /** Rejected samples by reason (`too_old`, `too_many_labels`, `label_name_too_long`, `label_value_too_long`). */
  rejectReasons?: Record<string, number>;
}

/**
 * Writes samples. Nothing is visible or durable until `commit` resolves; after it resolves
 * every appended sample survives kill -9. `ref` 0 means "unknown, look the labels up".
 */
export interface Appender {
  append(ref: SeriesRef, labels: Labels, t: number, v: number, stale?: boolean): SeriesRef;
  commit(): Promise<AppendStats>;
  rollback(): void;
}

/**
 * The samples of one series in a time range, in time order, one sample per timestamp.
 * `stale[i] === 1` marks a Prometheus staleness marker (its value is meaningless).
 * The arrays are read only: they may be views of the store's decoded-chunk cache.
 */
export interface SeriesData {
  labels: Labels;
  t: Float64Array;
  v: Float64Array;
  stale: Uint8Array | null;
}

export interface SelectHints {
  /** Only labels are needed (metadata endpoints), not samples. */
  labelsOnly?: boolean;
  limit?: number;
}

/** Reads series in the [mint, maxt] window (ms, inclusive) it was opened for. */
export interface Querier {
  select(matchers: readonly Matcher[], hints?: SelectHints): Promise<SeriesData[]>;
  labelNames(matchers?: readonly Matcher[]): Promise<string[]>;
  labelValues(name: string, matchers?: readonly Matcher[]): Promise<string[]>;
  close(): void;
}

export interface Queryable {
  querier(mint: number, maxt: number): Promise<Querier>;
}

export interface TsdbStatus {
  headStats: { numSeries: number; numLabelPairs: number; chunkCount: number; minTime: number; maxTime: number };
  seriesCountByMetricName: { name: string; value: number }[];
  labelValueCountByLabelName: { name: string; value: number }[];
  memoryInBytesByLabelName: { name: string; value: number }[];
  seriesCountByLabelValuePair: { name: string; value: number }[];
}

/** Counters since the store was opened, read by the hub's /metrics. */
export interface StorageStats {
  samplesAppended: number;
  duplicates: number;
  conflicts: number;
  rejected: number;
  /** Series with samples in the store (head or chunks). */
  seriesActive: number;
  /** Series that have samples in the in-memory head. */
  headSeries: number;
  headSamples: number;
  commits: number;
  walBytes: number;
  flushes: number;
  chunks: number;
  chunkBytes: number;
  minTime: number;
  maxTime: number;
  /** Decoded-chunk cache: bytes held, lookups answered from it and lookups that read LevelDB. */
  chunkCacheBytes: number;
  chunkCacheHits: number;
  chunkCacheMisses: number;
}

/** The whole store as the hub sees it. */
export interface Storage extends Queryable {
  appender(): Appender;
  /** HELP/TYPE/UNIT by family name, as carried from scrapes. */
  setMetadata(items: readonly MetricMetadata[]): void;
  metadata(metric?: string, limit?: number): Promise<Record<string, { type: string; help: string; unit: string }[]>>;
  status(limit?: number): Promise<TsdbStatus>;
  /** Writes the head into compressed chunks and compacts; resolves when done. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Counters for /metrics (optional so that test fakes need not provide it). */
  stats?(): StorageStats;
}
