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
            acc[i] = mean + (x / c - mean / c);
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

type Less = (a: number, b: number) => boolean;
// Prometheus' heaps: vectorByValueHeap (topk) and vectorByReverseValueHeap (bottomk); NaN is always "less".
const lessTop: Less = (a, b) => Number.isNaN(a) || a < b;
const lessBottom: Less = (a, b) => Number.isNaN(a) || a > b;

/** Go's container/heap over an array of values, with the element identities carried along. */
class GoHeap {
  readonly v: number[] = [];
  readonly ids: StepSeries[] = [];
  constructor(private readonly less: Less) {}
  private lessAt(i: number, j: number): boolean { return this.less(this.v[i]!, this.v[j]!); }
  private swap(i: number, j: number): void {
    [this.v[i], this.v[j]] = [this.v[j]!, this.v[i]!];
    [this.ids[i], this.ids[j]] = [this.ids[j]!, this.ids[i]!];
  }
  private up(j: number): void {
    for (;;) {
      const i = Math.floor((j - 1) / 2);
      if (i === j || j <= 0 || !this.lessAt(j, i)) break;
      this.swap(i, j);
      j = i;
    }
  }
  private down(i0: number, n: number): boolean {
    let i = i0;
    for (;;) {
      const j1 = 2 * i + 1;
      if (j1 >= n) break;
      let j = j1;
      const j2 = j1 + 1;
      if (j2 < n && this.lessAt(j2, j1)) j = j2;
      if (!this.lessAt(j, i)) break;
      this.swap(i, j);
      i = j;
    }
    return i > i0;
  }
  push(x: number, id: StepSeries): void {
    this.v.push(x);
    this.ids.push(id);
    this.up(this.v.length - 1);
  }
  /** heap.Pop: the top element leaves. */
  pop(): void {
    const n = this.v.length - 1;
    this.swap(0, n);
    this.down(0, n);
    this.v.pop();
    this.ids.pop();
  }
}

/** topk/bottomk with Prometheus 2.42's heap (pop then push), so that ties resolve to the same series. */
function topk(e: AggregateExpr, series: StepSeries[], ks: Float64Array, n: number): StepSeries[] {
  const top = e.op === 'topk';
  const less = top ? lessTop : lessBottom;
  const outs = new Map<StepSeries, StepSeries>();
  const order: StepSeries[] = [];
  const groups = groupSeries(series, e);
  for (let i = 0; i < n; i++) {
    const kf = ks[i]!;
    if (Number.isNaN(kf)) throw new QueryExecutionError('Parameter value is NaN');
    const k = Math.trunc(Math.min(kf, 2 ** 53));
    if (k < 1) continue;
    for (const g of groups) {
      const h = new GoHeap(less);
      for (const s of g.members) {
        if (!s.present[i]) continue;
        const x = s.v[i]!;
        const len = h.v.length;
        if (len < k || (top ? h.v[0]! < x : h.v[0]! > x) || Number.isNaN(h.v[0]!)) {
          if (len === k) {
            if (k === 1) { h.v[0] = x; h.ids[0] = s; continue; }
            h.pop();
          }
          h.push(x, s);
        }
      }
      // output order: the heap sorted in reverse (best first)
      const idx = h.v.map((_, j) => j).sort((a, b) => (less(h.v[b]!, h.v[a]!) ? -1 : less(h.v[a]!, h.v[b]!) ? 1 : 0));
      for (const j of idx) {
        const s = h.ids[j]!;
        let o = outs.get(s);
        if (!o) { o = newStepSeries(s.labels, n); outs.set(s, o); }
        o.v[i] = h.v[j]!;
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
