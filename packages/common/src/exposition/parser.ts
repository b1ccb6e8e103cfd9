/**
 * Parser for the Prometheus text format 0.0.4 and OpenMetrics 1.0, following what Prometheus
 * 2.42 ingests from a scrape (every sample line is a sample, `_created` lines included), and
 * refusing malformed input with a ParseError at the offending character.
 */
import type { Labels } from '../model/labels.js';
import type { MetricMetadata } from '../model/sample.js';
import { ExpositionReader } from './reader.js';

export { unescapeHelp } from './lexer.js';

export type ExpositionFormat = 'text' | 'openmetrics';

export interface ExpositionSample {
  /** Sample name as written (`x_bucket`, `x_total`). */
  name: string;
  /** All labels, `__name__` included. */
  labels: Labels;
  value: number;
  /** Milliseconds, when the line carries a timestamp (OpenMetrics seconds are converted). */
  timestamp?: number;
}

export interface Exposition {
  samples: ExpositionSample[];
  /** One entry per family that has a TYPE, HELP or UNIT line, in order of appearance. */
  metadata: MetricMetadata[];
}

export interface ParseOptions {
  format?: ExpositionFormat;
  /** A response's Content-Type: `application/openmetrics-text` selects OpenMetrics, anything else the text format. */
  contentType?: string;
}

/** The format Prometheus picks for a Content-Type header. */
export function formatFromContentType(contentType: string | undefined): ExpositionFormat {
  if (contentType === undefined) return 'text';
  const media = contentType.split(';')[0]!.trim().toLowerCase();
  return media === 'application/openmetrics-text' ? 'openmetrics' : 'text';
}

export function parseExposition(text: string, opts: ParseOptions = {}): Exposition {
  const format = opts.format ?? formatFromContentType(opts.contentType);
  const r = new ExpositionReader(text, format === 'openmetrics');
  const samples: ExpositionSample[] = [];
  while (r.next()) {
    const labels = r.labels();
    const sample: ExpositionSample = { name: labels.__name__!, labels, value: r.value };
    if (r.hasTimestamp) sample.timestamp = r.timestamp;
    samples.push(sample);
  }
  return { samples, metadata: r.metadata() };
}

