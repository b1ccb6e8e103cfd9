import type { MetricFamily } from '@vigil/common';

// A minimal private writer, until @vigil/common's exposition writer lands.

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabel(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function sampleLine(name: string, labels: Readonly<Record<string, string>>, value: number): string {
  const keys = Object.keys(labels);
  const ls = keys.length ? `{${keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(',')}}` : '';
  return `${name}${ls} ${formatValue(value)}\n`;
}

/** Prometheus text format 0.0.4. */
export function writeText(families: readonly MetricFamily[]): string {
  let out = '';
  for (const f of families) {
    out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type === 'unknown' ? 'untyped' : f.type}\n`;
    for (const s of f.samples) out += sampleLine(s.name, s.labels, s.value);
  }
  return out;
}

/** OpenMetrics 1.0 text: counter families drop `_total` from the family name; ends with `# EOF`. */
export function writeOpenMetrics(families: readonly MetricFamily[]): string {
  let out = '';
  for (const f of families) {
    const name = f.type === 'counter' ? f.name.replace(/_total$/, '') : f.name;
    out += `# TYPE ${name} ${f.type}\n`;
    if (f.unit) out += `# UNIT ${name} ${f.unit}\n`;
    out += `# HELP ${name} ${escapeLabel(f.help)}\n`;
    for (const s of f.samples) out += sampleLine(s.name, s.labels, s.value);
  }
  return out + '# EOF\n';
}
