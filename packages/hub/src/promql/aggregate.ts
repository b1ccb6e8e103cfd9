// Aggregation operators (sum, avg, topk, quantile, count_values, ...) over step series.
import { labelsKey, LABEL_NAME_RE, METRIC_NAME, type Labels } from '@vigil/common';
import type { AggregateExpr } from './ast.js';
import { QueryExecutionError } from './errors.js';
import { quantile } from './functions/index.js';
import { formatGoFloat } from './format.js';
import { newStepSeries, type StepSeries } from './value.js';

function groupLabels(l: Labels, e: AggregateExpr): Labels {
  const out: Record<string, string> = {};
  if (e.without) {
    for (const n of Object.keys(l)) if (n !== METRIC_NAME && !e.grouping.includes(n)) out[n] = l[n]!;
  } else {
    for (const n of e.grouping) if (l[n] !== undefined && l[n] !== '') out[n] = l[n]!;
  }
  return out;
}

interface Group { labels: Labels; members: StepSeries[] }

function groupSeries(series: StepSeries[], e: AggregateExpr): Group[] {
  const groups = new Map<string, Group>();
  for (const s of series) {
    const labels = groupLabels(s.labels, e);
    const key = labelsKey(labels);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { labels, members: [] }));
    g.members.push(s);
  }
  return [...groups.values()];
}

/** Evaluates an aggregation; `param` is the per-step scalar (topk/bottomk/quantile) or the label (count_values). */
export function aggregate(e: AggregateExpr, series: StepSeries[], param: Float64Array | string | null, n: number): StepSeries[] {
  switch (e.op) {
    case 'topk': case 'bottomk': return topk(e, series, param as Float64Array, n);
    case 'count_values': return countValues(e, series, param as string, n);
    default: break;
  }
  const out: StepSeries[] = [];
  for (const g of groupSeries(series, e)) {
    const r = newStepSeries(g.labels, n);
    const count = new Float64Array(n);
    const acc = r.v;
    const aux = e.op === 'stddev' || e.op === 'stdvar' ? new Float64Array(n) : null;
    const vals: number[][] | null = e.op === 'quantile' ? Array.from({ length: n }, () => []) : null;
    for (const s of g.members) {
      for (let i = 0; i < n; i++) {
        if (!s.present[i]) continue;
        const x = s.v[i]!;
        const c = ++count[i]!;
        switch (e.op) {
          case 'sum': acc[i] = c === 1 ? x : acc[i]! + x; break;
          case 'count': acc[i] = c; break;
          case 'group': acc[i] = 1; break;
          case 'min': if (c === 1 || acc[i]! > x || Number.isNaN(acc[i]!)) acc[i] = x; break;
          case 'max': if (c === 1 || acc[i]! < x || Number.isNaN(acc[i]!)) acc[i] = x; break;
          case 'avg': {
            if (c === 1) { acc[i] = x; break; }
            const mean = acc[i]!;
            if (!Number.isFinite(mean) && !Number.isNaN(mean)) {
              if (!Number.isFinite(x) && !Number.isNaN(x) && (mean > 0) === (x > 0)) break;
              if (Number.isFinite(x)) break;
            }
            acc[i] = mean + x / c - mean / c;
            break;
          }
          case 'stddev': case 'stdvar': {
            if (c === 1) { acc[i] = x; aux![i] = 0; break; }
            const delta = x - acc[i]!;
            acc[i] = acc[i]! + delta / c;
            aux![i] = aux![i]! + delta * (x - acc[i]!);
            break;
          }
          case 'quantile': vals![i]!.push(x); break;
          default: throw new QueryExecutionError(`cannot aggregate with ${e.op}`);
        }
      }
    }
    let any = false;
    for (let i = 0; i < n; i++) {
      if (count[i] === 0) continue;
      any = true;
      r.present[i] = 1;
      if (e.op === 'stdvar') r.v[i] = aux![i]! / count[i]!;
      else if (e.op === 'stddev') r.v[i] = Math.sqrt(aux![i]! / count[i]!);
      else if (e.op === 'quantile') r.v[i] = quantile((param as Float64Array)[i]!, vals![i]!);
    }
    if (any) out.push(r);
  }
  return out;
}

/** NaN is the least preferred value for both topk and bottomk. */
function better(a: number, b: number, top: boolean): boolean {
  if (Number.isNaN(b)) return !Number.isNaN(a);
  if (Number.isNaN(a)) return false;
  return top ? a > b : a < b;
}

function topk(e: AggregateExpr, series: StepSeries[], ks: Float64Array, n: number): StepSeries[] {
  const top = e.op === 'topk';
  const outs = new Map<StepSeries, StepSeries>();
  const order: StepSeries[] = [];
  const groups = groupSeries(series, e);
  for (let i = 0; i < n; i++) {
    const kf = ks[i]!;
    if (Number.isNaN(kf)) throw new QueryExecutionError('Parameter value is NaN');
    const k = Math.trunc(kf);
    if (k < 1) continue;
    for (const g of groups) {
      const cands = g.members.filter((s) => s.present[i]);
      cands.sort((a, b) => (better(a.v[i]!, b.v[i]!, top) ? -1 : better(b.v[i]!, a.v[i]!, top) ? 1 : 0));
      for (const s of cands.slice(0, k)) {
        let o = outs.get(s);
        if (!o) { o = newStepSeries(s.labels, n); outs.set(s, o); }
        o.v[i] = s.v[i]!;
        o.present[i] = 1;
        if (n === 1) order.push(o);
      }
    }
  }
  return n === 1 ? order : [...outs.values()];
}

function countValues(e: AggregateExpr, series: StepSeries[], label: string, n: number): StepSeries[] {
  if (!LABEL_NAME_RE.test(label)) throw new QueryExecutionError(`invalid label name ${JSON.stringify(label)}`);
  const out = new Map<string, StepSeries>();
  for (const s of series) {
    const base = groupLabels(s.labels, e);
    for (let i = 0; i < n; i++) {
      if (!s.present[i]) continue;
      const labels = { ...base, [label]: formatGoFloat(s.v[i]!) };
      const key = labelsKey(labels);
      let o = out.get(key);
      if (!o) { o = newStepSeries(labels, n); out.set(key, o); }
      o.v[i] = (o.present[i] ? o.v[i]! : 0) + 1;
      o.present[i] = 1;
    }
  }
  return [...out.values()];
}
