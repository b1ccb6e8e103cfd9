/** Writing metric families as text 0.0.4 or OpenMetrics 1.0, and choosing between them from an Accept header. */
import { escapeLabelValue, type Labels } from '../model/labels.js';
import type { MetricFamily, MetricType } from '../model/sample.js';
import { formatGoFloat } from './float.js';
import type { ExpositionFormat } from './parser.js';

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
/** What Prometheus 2.42 sends as Accept when scraping. */
export const SCRAPE_ACCEPT_HEADER =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

const TEXT_TYPE_NAMES: Record<MetricType, string> = {
  counter: 'counter', gauge: 'gauge', histogram: 'histogram', summary: 'summary', unknown: 'untyped',
  gaugehistogram: 'untyped', info: 'gauge', stateset: 'gauge',
};

function writeLabels(labels: Labels): string {
  let out = '';
  for (const name in labels) {
    if (name === '__name__') continue;
    out += (out === '' ? '{' : ',') + name + '="' + escapeLabelValue(labels[name]!) + '"';
  }
  return out === '' ? '' : out + '}';
}

/** Text format 0.0.4: `# HELP`, `# TYPE`, then one line per sample (timestamps in ms). */
export function writeText(families: readonly MetricFamily[]): string {
  let out = '';
  for (const f of families) {
    if (f.help !== '') out += `# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n`;
    out += `# TYPE ${f.name} ${TEXT_TYPE_NAMES[f.type]}\n`;
    for (const s of f.samples) {
      out += s.name + writeLabels(s.labels) + ' ' + formatGoFloat(s.value);
      if (s.timestamp !== undefined) out += ' ' + Math.trunc(s.timestamp);
      out += '\n';
    }
  }
  return out;
}

/**
 * The OpenMetrics family name: counters drop `_total`, info metrics `_info`, unless that
 * would collide with another family (text expositions have e.g. both `x` and `x_total`).
 */
function openMetricsName(f: MetricFamily, names: ReadonlySet<string>): string {
  let base = f.name;
  if (f.type === 'counter' && f.name.endsWith('_total')) base = f.name.slice(0, -6);
  else if (f.type === 'info' && f.name.endsWith('_info')) base = f.name.slice(0, -5);
  return base !== f.name && names.has(base) ? f.name : base;
}

/** Milliseconds as OpenMetrics seconds (`1735689600`, `1735689600.123`). */
function formatSeconds(ms: number): string {
  const t = Math.trunc(ms);
  const sign = t < 0 ? '-' : '';
  const a = Math.abs(t);
  const frac = a % 1000;
  const whole = (a - frac) / 1000;
  if (frac === 0) return sign + whole;
  return `${sign}${whole}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
}

/** OpenMetrics 1.0 with `# TYPE`, `# UNIT`, `# HELP` per family and the final `# EOF`. */
export function writeOpenMetrics(families: readonly MetricFamily[]): string {
  let out = '';
  const names = new Set(families.map((f) => f.name));
  for (const f of families) {
    const name = openMetricsName(f, names);
    out += `# TYPE ${name} ${f.type}\n`;
    if (f.unit) out += `# UNIT ${name} ${f.unit}\n`;
    if (f.help !== '') out += `# HELP ${name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}\n`;
    for (const s of f.samples) {
      out += s.name + writeLabels(s.labels) + ' ' + formatGoFloat(s.value);
      if (s.timestamp !== undefined) out += ' ' + formatSeconds(s.timestamp);
      out += '\n';
    }
  }
  return out + '# EOF\n';
}

export interface Negotiated {
  format: ExpositionFormat;
  contentType: string;
}

/**
 * Chooses the exposition format for an Accept header as client_golang does: the media
 * ranges in order of preference (q), the first that names a format we write wins;
 * OpenMetrics only when asked for explicitly; text otherwise.
 */
export function negotiate(accept: string | undefined | null): Negotiated {
  const text: Negotiated = { format: 'text', contentType: TEXT_CONTENT_TYPE };
  if (!accept) return text;
  const ranges = accept.split(',').map((part, index) => {
    const [media = '', ...params] = part.split(';').map((s) => s.trim());
    let q = 1;
    let version: string | undefined;
    for (const p of params) {
      const eq = p.indexOf('=');
      const key = p.slice(0, eq).trim().toLowerCase();
      const value = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
      if (key === 'q') q = Number(value);
      else if (key === 'version') version = value;
    }
    return { media: media.toLowerCase(), q: Number.isFinite(q) ? q : 0, version, index };
  });
  ranges.sort((a, b) => b.q - a.q || a.index - b.index);
  for (const r of ranges) {
    if (r.q <= 0) continue;
    if (r.media === 'application/openmetrics-text' && (r.version === undefined || r.version === '1.0.0' || r.version === '0.0.1')) {
      return { format: 'openmetrics', contentType: OPENMETRICS_CONTENT_TYPE };
    }
    if (r.media === 'text/plain' && (r.version === undefined || r.version === '0.0.4')) return text;
  }
  return text;
}
