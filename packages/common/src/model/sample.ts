import type { Labels } from './labels.js';

/**
 * One sample: milliseconds since the epoch and a float value. Prometheus' stale marker
 * is a special NaN; JavaScript may canonicalise NaN payloads, so staleness is an explicit
 * flag everywhere in Vigil (`stale: true`, value ignored).
 */
export interface Sample {
  labels: Labels;
  /** Milliseconds since the Unix epoch. */
  t: number;
  v: number;
  stale?: boolean;
}

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'info' | 'stateset' | 'unknown';

/** HELP/TYPE/UNIT of a metric family, carried from the scrape to the hub's /api/v1/metadata. */
export interface MetricMetadata {
  /** Family name (for histograms, without `_bucket` etc.). */
  metric: string;
  type: MetricType;
  help: string;
  unit: string;
}
