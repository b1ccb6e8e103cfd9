// label_replace, label_join, histogram_quantile and absent: functions that build new label sets.
import { compileRegex, expandTemplate, LABEL_NAME_RE, labelsKey, METRIC_NAME, withoutName, type Labels, type Regex } from '@vigil/common';
import type { Expr } from '../ast.js';
import { QueryExecutionError } from '../errors.js';
import { newStepSeries, type EvalValue, type StepSeries } from '../value.js';
import type { CallContext } from './types.js';

function relabel(series: StepSeries[], f: (l: Labels) => Labels): StepSeries[] {
  return series.map((s) => ({ labels: f(s.labels), v: s.v, present: s.present }));
}

export async function labelReplace(ctx: CallContext): Promise<EvalValue> {
  const [dst, repl, src, regexStr] = await Promise.all([ctx.string(1), ctx.string(2), ctx.string(3), ctx.string(4)]);
  let re: Regex;
  try {
    re = compileRegex(regexStr);
  } catch {
    throw new QueryExecutionError(`invalid regular expression in label_replace(): ${regexStr}`);
  }
  if (!LABEL_NAME_RE.test(dst)) throw new QueryExecutionError(`invalid destination label name in label_replace(): ${dst}`);
  const series = await ctx.vector(0);
  return {
    kind: 'vector',
    series: relabel(series, (l) => {
      const m = re.exec(l[src] ?? '');
      if (!m) return l;
      const res = expandTemplate(repl, m);
      const out: Record<string, string> = { ...l };
      delete out[dst];
      if (res !== '') out[dst] = res;
      return out;
    }),
  };
}

export async function labelJoin(ctx: CallContext): Promise<EvalValue> {
  const dst = await ctx.string(1);
  const sep = await ctx.string(2);
  const srcs: string[] = [];
  for (let i = 3; i < ctx.node.args.length; i++) {
    const s = await ctx.string(i);
    if (!LABEL_NAME_RE.test(s)) throw new QueryExecutionError(`invalid source label name in label_join(): ${s}`);
    srcs.push(s);
  }
  if (!LABEL_NAME_RE.test(dst)) throw new QueryExecutionError(`invalid destination label name in label_join(): ${dst}`);
  const series = await ctx.vector(0);
  return {
    kind: 'vector',
    series: relabel(series, (l) => {
      const val = srcs.map((s) => l[s] ?? '').join(sep);
      const out: Record<string, string> = { ...l };
      delete out[dst];
      if (val !== '') out[dst] = val;
      return out;
    }),
  };
}

interface Bucket { upper: number; count: number }

/** Prometheus' bucketQuantile over classic `le` buckets. */
export function bucketQuantile(q: number, buckets: Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  buckets.sort((a, b) => a.upper - b.upper);
  if (buckets.length === 0 || buckets[buckets.length - 1]!.upper !== Infinity) return NaN;
  // coalesce buckets with the same upper bound
  let k = 0;
  for (let i = 1; i < buckets.length; i++) {
    if (buckets[i]!.upper === buckets[k]!.upper) buckets[k]!.count += buckets[i]!.count;
    else buckets[++k] = buckets[i]!;
  }
  buckets.length = k + 1;
  let max = -Infinity;
  for (const b of buckets) {
    if (b.count > max) max = b.count;
    else if (b.count < max) b.count = max;
  }
  if (buckets.length < 2) return NaN;
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  let b = 0;
  while (b < buckets.length - 1 && !(buckets[b]!.count >= rank)) b++;
  if (b === buckets.length - 1) return buckets[buckets.length - 2]!.upper;
  if (b === 0 && buckets[0]!.upper <= 0) return buckets[0]!.upper;
  let start = 0;
  const end = buckets[b]!.upper;
  let count = buckets[b]!.count;
  if (b > 0) {
    start = buckets[b - 1]!.upper;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return start + (end - start) * (rank / count);
}

function parseLe(s: string): number {
  const t = s.trim();
  if (/^[+]?inf$/i.test(t)) return Infinity;
  if (/^-inf$/i.test(t)) return -Infinity;
  if (/^nan$/i.test(t)) return NaN;
  if (t === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^0x[0-9a-f]+$/i.test(t)) return NaN;
  return Number(t);
}

export async function histogramQuantile(ctx: CallContext): Promise<EvalValue> {
  const phi = await ctx.scalar(0);
  const series = await ctx.vector(1);
  const n = ctx.grid.n;
  const groups = new Map<string, { labels: Labels; members: { le: number; s: StepSeries }[] }>();
  for (const s of series) {
    const leStr = s.labels.le;
    if (leStr === undefined) continue;
    const le = parseLe(leStr);
    if (Number.isNaN(le)) continue;
    const { le: _drop, ...rest } = s.labels;
    const labels = withoutName(rest);
    const key = labelsKey(labels);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { labels, members: [] }));
    g.members.push({ le, s });
  }
  const out: StepSeries[] = [];
  for (const g of groups.values()) {
    // buckets ordered by bound once (a stable sort, so the per-step sort in bucketQuantile finds them in order)
    g.members.sort((a, b) => a.le - b.le);
    const r = newStepSeries(g.labels, n);
    let any = false;
    for (let i = 0; i < n; i++) {
      const buckets: Bucket[] = [];
      for (const m of g.members) if (m.s.present[i]) buckets.push({ upper: m.le, count: m.s.v[i]! });
      if (buckets.length === 0) continue;
      r.v[i] = bucketQuantile(phi[i]!, buckets);
      r.present[i] = 1;
      any = true;
    }
    if (any) out.push(r);
  }
  return { kind: 'vector', series: out };
}

/** Labels that `absent(sel)` gives its output: the selector's equality matchers (once each, not the name). */
function absentLabels(arg: Expr): Labels {
  let e = arg;
  while (e.type === 'paren') e = e.expr;
  const vs = e.type === 'vector' ? e : e.type === 'matrix' ? e.vector : null;
  if (!vs) return {};
  const out: Record<string, string> = {};
  const has = new Set<string>();
  for (const m of vs.matchers) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === '=' && !has.has(m.name)) {
      out[m.name] = m.value;
      has.add(m.name);
    } else delete out[m.name];
  }
  return out;
}

export async function absent(ctx: CallContext): Promise<EvalValue> {
  const series = await ctx.vector(0);
  return absentFrom(ctx, (i) => series.some((s) => s.present[i]));
}

export async function absentOverTime(ctx: CallContext): Promise<EvalValue> {
  const input = await ctx.range(0);
  const has = (i: number): boolean => {
    const end = input.refTimes[i]!;
    const start = end - input.rangeMs;
    for (const s of input.series) {
      // binary search for the first sample >= start
      let lo = 0, hi = s.t.length;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (s.t[mid]! < start) lo = mid + 1; else hi = mid; }
      if (lo < s.t.length && s.t[lo]! <= end) return true;
    }
    return false;
  };
  return absentFrom(ctx, has);
}

function absentFrom(ctx: CallContext, has: (i: number) => boolean): EvalValue {
  const n = ctx.grid.n;
  const r = newStepSeries(absentLabels(ctx.node.args[0]!), n);
  let any = false;
  for (let i = 0; i < n; i++) {
    if (has(i)) continue;
    r.v[i] = 1;
    r.present[i] = 1;
    any = true;
  }
  return { kind: 'vector', series: any ? [r] : [] };
}
