// Functions over range vectors (`rate`, `*_over_time`, ...): each is a small function of one window,
// run by `overRange` for every series and step with indexes into the series' typed arrays.
import { withoutName } from '@vigil/common';
import { QueryExecutionError } from '../errors.js';
import { newStepSeries, type EvalValue, type StepSeries } from '../value.js';
import { boundsKernel, extrapolate, extremeKernel, rateKernel, scratchWindows, stepWindows, sumKernel, type SeriesKernel } from './kernels.js';
import type { CallContext, Window } from './types.js';

export type WindowFn = (w: Window, scalars: number[]) => number | undefined;

/**
 * Builds a function implementation that applies `fn` to each series' window at each step (or runs `kernel`
 * over each whole series when the function has one and no scalar arguments).
 * `matrixArg` is the index of the range-vector argument; the other arguments are scalars.
 */
export function overRange(matrixArg: number, nargs: number, fn: WindowFn, keepName = false, kernel?: SeriesKernel): (ctx: CallContext) => Promise<EvalValue> {
  return async (ctx) => {
    const scalarIdx: number[] = [];
    for (let i = 0; i < Math.max(nargs, ctx.node.args.length); i++) if (i !== matrixArg && i < ctx.node.args.length) scalarIdx.push(i);
    const scalars = await Promise.all(scalarIdx.map((i) => ctx.scalar(i)));
    const input = await ctx.range(matrixArg);
    const n = ctx.grid.n;
    const out: StepSeries[] = [];
    const steps = input.invariant ? 1 : n;
    if (kernel && scalars.length === 0) {
      const sw = scratchWindows(steps, input.refTimes, input.rangeMs);
      for (const s of input.series) {
        const res = newStepSeries(keepName ? s.labels : withoutName(s.labels), n);
        stepWindows(s.t, sw);
        if (!kernel(s.t, s.v, sw, res.v, res.present)) continue;
        if (input.invariant) res.v.fill(res.v[0]!), res.present.fill(1);
        out.push(res);
      }
      return { kind: 'vector', series: out };
    }
    const sv = new Array<number>(scalars.length).fill(0);
    for (const s of input.series) {
      const res = newStepSeries(keepName ? s.labels : withoutName(s.labels), n);
      const w: Window = { t: s.t, v: s.v, lo: 0, hi: 0, rangeStart: 0, rangeEnd: 0, rangeMs: input.rangeMs, evalTs: 0, aux: null };
      let lo = 0;
      let hi = 0;
      let any = false;
      const len = s.t.length;
      for (let i = 0; i < steps; i++) {
        const end = input.refTimes[i]!;
        const start = end - input.rangeMs;
        while (lo < len && s.t[lo]! < start) lo++;
        if (hi < lo) hi = lo;
        while (hi < len && s.t[hi]! <= end) hi++;
        if (lo === hi) continue;
        w.lo = lo; w.hi = hi; w.rangeStart = start; w.rangeEnd = end;
        w.evalTs = ctx.grid.start + i * ctx.grid.step;
        for (let k = 0; k < scalars.length; k++) sv[k] = scalars[k]![i]!;
        const r = fn(w, sv);
        if (r !== undefined) { res.v[i] = r; res.present[i] = 1; any = true; }
      }
      if (input.invariant && res.present[0]) res.v.fill(res.v[0]!), res.present.fill(1);
      if (any) out.push(res);
    }
    return { kind: 'vector', series: out };
  };
}

/** Kahan-compensated running sum: returns [sum, compensation]. */
function kahanInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (Math.abs(sum) >= Math.abs(inc)) c += (sum - t) + inc;
  else c += (inc - t) + sum;
  return [t, c];
}

/**
 * Adds the value before each counter reset inside the window to `result`, in sample order as Prometheus
 * does (so results are bit-identical). A per-series prefix count of resets skips windows without any.
 */
function addResets(w: Window, result: number): number {
  const { v, lo, hi } = w;
  let resets = w.aux;
  if (!resets) {
    resets = new Float64Array(v.length);
    let n = 0;
    for (let i = 1; i < v.length; i++) {
      if (v[i]! < v[i - 1]!) n++;
      resets[i] = n;
    }
    w.aux = resets;
  }
  if (resets[hi - 1] === resets[lo]) return result;
  let prev = 0;
  for (let i = lo; i < hi; i++) {
    const x = v[i]!;
    if (x < prev) result += prev;
    prev = x;
  }
  return result;
}

/** `rate`, `increase` and `delta` with Prometheus 2.x extrapolation to the window's edges. */
function extrapolatedRate(isCounter: boolean, isRate: boolean): WindowFn {
  return (w) => {
    const { t, v, lo, hi } = w;
    if (hi - lo < 2) return undefined;
    const first = v[lo]!;
    const last = v[hi - 1]!;
    let result = last - first;
    if (isCounter) result = addResets(w, result);
    return extrapolate(result, first, t, lo, hi, w.rangeStart, w.rangeEnd, w.rangeMs, isCounter, isRate);
  };
}

function instantValue(isRate: boolean): WindowFn {
  return (w) => {
    const { t, v, hi } = w;
    if (hi - w.lo < 2) return undefined;
    const last = v[hi - 1]!;
    const prev = v[hi - 2]!;
    let result = isRate && last < prev ? last : last - prev;
    if (isRate) {
      const interval = t[hi - 1]! - t[hi - 2]!;
      if (interval === 0) return undefined;
      result /= interval / 1000;
    }
    return result;
  };
}

/** Least-squares fit of the window against time (seconds from `interceptTime`). */
function linearRegression(w: Window, interceptTime: number): [number, number] {
  const { t, v, lo, hi } = w;
  let n = 0, sumX = 0, cX = 0, sumY = 0, cY = 0, sumXY = 0, cXY = 0, sumX2 = 0, cX2 = 0;
  const initY = v[lo]!;
  let constY = true;
  for (let i = lo; i < hi; i++) {
    const y = v[i]!;
    if (constY && i > lo && y !== initY) constY = false;
    n++;
    const x = (t[i]! - interceptTime) / 1000;
    [sumX, cX] = kahanInc(x, sumX, cX);
    [sumY, cY] = kahanInc(y, sumY, cY);
    [sumXY, cXY] = kahanInc(x * y, sumXY, cXY);
    [sumX2, cX2] = kahanInc(x * x, sumX2, cX2);
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return [NaN, NaN];
    return [0, initY];
  }
  sumX += cX; sumY += cY; sumXY += cXY; sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  const intercept = sumY / n - (slope * sumX) / n;
  return [slope, intercept];
}

/** Quantile with linear interpolation, as Prometheus' `quantile` (NaN sorts first). */
export function quantile(q: number, values: number[]): number {
  if (values.length === 0) return NaN;
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  values.sort((a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b));
  const n = values.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return values[lower]! * (1 - weight) + values[upper]! * weight;
}

function variance(w: Window): number {
  let count = 0, mean = 0, cMean = 0, aux = 0, cAux = 0;
  for (let i = w.lo; i < w.hi; i++) {
    const x = w.v[i]!;
    count++;
    const delta = x - (mean + cMean);
    [mean, cMean] = kahanInc(delta / count, mean, cMean);
    [aux, cAux] = kahanInc(delta * (x - (mean + cMean)), aux, cAux);
  }
  return (aux + cAux) / count;
}

export const RANGE_FUNCTIONS: Record<string, { args: ('scalar' | 'matrix')[]; fn: WindowFn; keepName?: boolean; kernel?: SeriesKernel }> = {
  rate: { args: ['matrix'], fn: extrapolatedRate(true, true), kernel: rateKernel(true, true) },
  increase: { args: ['matrix'], fn: extrapolatedRate(true, false), kernel: rateKernel(true, false) },
  delta: { args: ['matrix'], fn: extrapolatedRate(false, false), kernel: rateKernel(false, false) },
  irate: { args: ['matrix'], fn: instantValue(true) },
  idelta: { args: ['matrix'], fn: instantValue(false) },
  deriv: {
    args: ['matrix'],
    fn: (w) => (w.hi - w.lo < 2 ? undefined : linearRegression(w, w.t[w.lo]!)[0]),
  },
  predict_linear: {
    args: ['matrix', 'scalar'],
    fn: (w, s) => {
      if (w.hi - w.lo < 2) return undefined;
      const [slope, intercept] = linearRegression(w, w.evalTs);
      return slope * s[0]! + intercept;
    },
  },
  holt_winters: {
    args: ['matrix', 'scalar', 'scalar'],
    fn: (w, s) => {
      const sf = s[0]!;
      const tf = s[1]!;
      if (!(sf > 0 && sf < 1)) throw new QueryExecutionError(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${sf.toFixed(6)}`);
      if (!(tf > 0 && tf < 1)) throw new QueryExecutionError(`invalid trend factor. Expected: 0 < tf < 1, got: ${tf.toFixed(6)}`);
      const { v, lo, hi } = w;
      if (hi - lo < 2) return undefined;
      let s0 = 0;
      let s1 = v[lo]!;
      let b = v[lo + 1]! - v[lo]!;
      for (let i = 1; i < hi - lo; i++) {
        const x = sf * v[lo + i]!;
        if (i > 1) b = tf * (s1 - s0) + (1 - tf) * b;
        const y = (1 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
      }
      return s1;
    },
  },
  changes: {
    args: ['matrix'],
    fn: (w) => {
      let c = 0;
      for (let i = w.lo + 1; i < w.hi; i++) {
        const a = w.v[i - 1]!, b = w.v[i]!;
        if (a !== b && !(Number.isNaN(a) && Number.isNaN(b))) c++;
      }
      return c;
    },
  },
  resets: {
    args: ['matrix'],
    fn: (w) => {
      let c = 0;
      for (let i = w.lo + 1; i < w.hi; i++) if (w.v[i]! < w.v[i - 1]!) c++;
      return c;
    },
  },
  avg_over_time: {
    args: ['matrix'],
    fn: (w) => {
      let mean = 0, c = 0, count = 0;
      for (let i = w.lo; i < w.hi; i++) {
        const x = w.v[i]!;
        count++;
        if (!Number.isFinite(mean) && !Number.isNaN(mean)) {
          if (!Number.isFinite(x) && !Number.isNaN(x) && (mean > 0) === (x > 0)) continue;
          if (Number.isFinite(x)) continue;
        }
        [mean, c] = kahanInc(x / count - mean / count, mean, c);
      }
      return !Number.isFinite(mean) && !Number.isNaN(mean) ? mean : mean + c;
    },
    kernel: sumKernel(true),
  },
  sum_over_time: {
    args: ['matrix'],
    fn: (w) => {
      let sum = 0, c = 0;
      for (let i = w.lo; i < w.hi; i++) [sum, c] = kahanInc(w.v[i]!, sum, c);
      return !Number.isFinite(sum) && !Number.isNaN(sum) ? sum : sum + c;
    },
    kernel: sumKernel(false),
  },
  count_over_time: { args: ['matrix'], fn: (w) => w.hi - w.lo, kernel: boundsKernel((_v, lo, hi) => hi - lo) },
  min_over_time: {
    args: ['matrix'],
    fn: (w) => {
      let m = w.v[w.lo]!;
      for (let i = w.lo; i < w.hi; i++) { const x = w.v[i]!; if (x < m || Number.isNaN(m)) m = x; }
      return m;
    },
    kernel: extremeKernel(false),
  },
  max_over_time: {
    args: ['matrix'],
    fn: (w) => {
      let m = w.v[w.lo]!;
      for (let i = w.lo; i < w.hi; i++) { const x = w.v[i]!; if (x > m || Number.isNaN(m)) m = x; }
      return m;
    },
    kernel: extremeKernel(true),
  },
  last_over_time: { args: ['matrix'], fn: (w) => w.v[w.hi - 1]!, keepName: true, kernel: boundsKernel((v, _lo, hi) => v[hi - 1]!) },
  present_over_time: { args: ['matrix'], fn: () => 1, kernel: boundsKernel(() => 1) },
  stddev_over_time: { args: ['matrix'], fn: (w) => Math.sqrt(variance(w)) },
  stdvar_over_time: { args: ['matrix'], fn: (w) => variance(w) },
  quantile_over_time: {
    args: ['scalar', 'matrix'],
    fn: (w, s) => {
      const vals: number[] = [];
      for (let i = w.lo; i < w.hi; i++) vals.push(w.v[i]!);
      return quantile(s[0]!, vals);
    },
  },
};
