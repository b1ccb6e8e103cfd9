// Ordering of series and the shaping of a query's value into its result.
import type { Labels } from '@vigil/common';
import type { SeriesData } from '../storage/types.js';
import { BadParameterError } from './errors.js';
import { newStepSeries, type EvalValue, type Grid, type QueryResult, type StepSeries } from './value.js';

/** Series sorted by labels (names sorted once per series, not per comparison). */
export function sortByLabels(data: SeriesData[]): SeriesData[] {
  const keyed = data.map((d) => {
    const names = Object.keys(d.labels).sort();
    const flat: string[] = [];
    for (const n of names) flat.push(n, d.labels[n]!);
    return { d, flat };
  });
  keyed.sort((a, b) => {
    const x = a.flat, y = b.flat;
    const n = Math.min(x.length, y.length);
    for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
    return x.length - y.length;
  });
  return keyed.map((k) => k.d);
}

/** Prometheus' labels.Compare: pairwise by sorted name, then value; a prefix sorts first. */
export function compareLabels(a: Labels, b: Labels): number {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const x = ka[i]!, y = kb[i]!;
    if (x !== y) return x < y ? -1 : 1;
    const vx = a[x]!, vy = b[y]!;
    if (vx !== vy) return vx < vy ? -1 : 1;
  }
  return ka.length - kb.length;
}

export function toInstantResult(val: EvalValue, timeMs: number): QueryResult {
  switch (val.kind) {
    case 'scalar': return { resultType: 'scalar', result: { t: timeMs, v: val.v[0]! }, warnings: [] };
    case 'string': return { resultType: 'string', result: { t: timeMs, v: val.value }, warnings: [] };
    case 'matrix': return { resultType: 'matrix', result: val.series.map((s) => ({ metric: s.labels, t: s.t, v: s.v })), warnings: [] };
    case 'vector': {
      const result: { metric: Labels; t: number; v: number }[] = [];
      for (const s of val.series) if (s.present[0]) result.push({ metric: s.labels, t: timeMs, v: s.v[0]! });
      return { resultType: 'vector', result, warnings: [] };
    }
  }
}

export function toRangeResult(val: EvalValue, g: Grid): QueryResult {
  let series: StepSeries[];
  if (val.kind === 'scalar') {
    const s = newStepSeries({}, g.n);
    s.v.set(val.v);
    s.present.fill(1);
    series = [s];
  } else if (val.kind === 'vector') series = val.series;
  else throw new BadParameterError(`invalid expression type "${val.kind}" for range query, must be Scalar or instant Vector`);
  const result: { metric: Labels; t: Float64Array; v: Float64Array }[] = [];
  for (const s of series) {
    let c = 0;
    for (let i = 0; i < g.n; i++) if (s.present[i]) c++;
    if (c === 0) continue;
    const t = new Float64Array(c);
    const v = new Float64Array(c);
    let k = 0;
    for (let i = 0; i < g.n; i++) {
      if (!s.present[i]) continue;
      t[k] = g.start + i * g.step;
      v[k++] = s.v[i]!;
    }
    result.push({ metric: s.labels, t, v });
  }
  result.sort((a, b) => compareLabels(a.metric, b.metric));
  return { resultType: 'matrix', result, warnings: [], grid: { start: g.start, step: g.step, n: g.n } };
}
