import type { Labels } from './labels.js';

/**
 * One sample: milliseconds since the epoch and a float value. Prometheus' stale marker
 * is a special NaN; JavaScript may canonicalise NaN payloads, so staleness is an explicit
 * flag everywhere in Vigil (`stale: true`, value ignored).
 */
/** Largest time (ms since 1970, either sign) a Date can hold: a timestamp beyond it is not a time. */
export const MAX_TIME_MS = 8.64e15;

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

/** One sample of a family, as exposed on /metrics. `name` is the full sample name (`x_bucket`, `x_total`). */
export interface FamilySample {
  name: string;
  /** Labels without `__name__`. */
  labels: Labels;
  value: number;
  /** Milliseconds, when the exposition carries one. */
  timestamp?: number;
}

/** A metric family with its metadata, the unit of the exposition writer and the host exporter. */
export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  unit?: string;
  samples: FamilySample[];
}
