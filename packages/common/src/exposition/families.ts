/** Grouping parsed samples back into metric families (for re-exposition, e.g. the Pushgateway API). */
import { withoutName } from '../model/labels.js';
import type { MetricFamily, MetricMetadata, MetricType } from '../model/sample.js';
import type { Exposition } from './parser.js';

const SUFFIXES_BY_TYPE: Partial<Record<MetricType, readonly string[]>> = {
  counter: ['_total', '_created'],
  histogram: ['_bucket', '_count', '_sum', '_created'],
  summary: ['_count', '_sum', '_created'],
  gaugehistogram: ['_bucket', '_gcount', '_gsum'],
  info: ['_info'],
};
const ALL_SUFFIXES = ['_total', '_created', '_bucket', '_count', '_sum', '_gcount', '_gsum', '_info'];

/** The family a sample name belongs to, given the families that have metadata. */
export function familyOf(sampleName: string, metadata: ReadonlyMap<string, MetricMetadata>): string {
  if (metadata.has(sampleName)) return sampleName;
  for (const suffix of ALL_SUFFIXES) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = sampleName.slice(0, -suffix.length);
    const meta = metadata.get(base);
    if (meta && SUFFIXES_BY_TYPE[meta.type]?.includes(suffix)) return base;
  }
  return sampleName;
}

/**
 * Groups an exposition's samples into families, in order of first appearance. Samples
 * without metadata form `unknown` families of their own name.
 */
export function toFamilies(exp: Exposition): MetricFamily[] {
  const meta = new Map(exp.metadata.map((m) => [m.metric, m]));
  const out = new Map<string, MetricFamily>();
  for (const m of exp.metadata) {
    const f: MetricFamily = { name: m.metric, type: m.type, help: m.help, samples: [] };
    if (m.unit !== '') f.unit = m.unit;
    out.set(m.metric, f);
  }
  let lastName = '';
  let lastFamily: MetricFamily | undefined;
  for (const s of exp.samples) {
    if (s.name !== lastName || !lastFamily) {
      const fname = familyOf(s.name, meta);
      lastFamily = out.get(fname);
      if (!lastFamily) {
        lastFamily = { name: fname, type: 'unknown', help: '', samples: [] };
        out.set(fname, lastFamily);
      }
      lastName = s.name;
    }
    const fs: MetricFamily['samples'][number] = { name: s.name, labels: withoutName(s.labels), value: s.value };
    if (s.timestamp !== undefined) fs.timestamp = s.timestamp;
    lastFamily.samples.push(fs);
  }
  return [...out.values()];
}
