// Whole-series implementations ("kernels") of the range functions queries use most: the windows of all steps
// are found once with two pointers, then one tight loop per function computes every step, with the same
// arithmetic, in the same order, as the per-window implementations in range.ts.

/** The windows of every step of one series: samples lo[i]..hi[i]-1 lie in [refTimes[i] - rangeMs, refTimes[i]]. */
export interface StepWindows {
  lo: Int32Array;
  hi: Int32Array;
  steps: number;
  refTimes: Float64Array;
  rangeMs: number;
}

/**
 * A whole series at once, for the functions queries use most: one tight loop over the steps instead of a call
 * per step. Writes the value and presence of each step; returns whether any step has a value.
 */
export type SeriesKernel = (t: Float64Array, v: Float64Array, w: StepWindows, out: Float64Array, present: Uint8Array) => boolean;

let scratchLo = new Int32Array(0);
let scratchHi = new Int32Array(0);

/**
 * Windows for `steps` steps in scratch arrays shared by all queries: use them synchronously (no await between
 * filling and reading them).
 */
export function scratchWindows(steps: number, refTimes: Float64Array, rangeMs: number): StepWindows {
  if (scratchLo.length < steps) { scratchLo = new Int32Array(steps); scratchHi = new Int32Array(steps); }
  return { lo: scratchLo, hi: scratchHi, steps, refTimes, rangeMs };
}

/** Fills `w.lo`/`w.hi` with each step's window, advancing both ends monotonically across the steps. */
export function stepWindows(t: Float64Array, w: StepWindows): void {
  const { lo: los, hi: his, refTimes, rangeMs, steps } = w;
  const len = t.length;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < steps; i++) {
    const end = refTimes[i]!;
    const start = end - rangeMs;
    while (lo < len && t[lo]! < start) lo++;
    if (hi < lo) hi = lo;
    while (hi < len && t[hi]! <= end) hi++;
    los[i] = lo;
    his[i] = hi;
  }
}

let scratchResets = new Int32Array(0);

/** `rate`/`increase`/`delta` over a whole series: the same arithmetic as `extrapolatedRate`, step by step. */
export function rateKernel(isCounter: boolean, isRate: boolean): SeriesKernel {
  return (t, v, w, out, present) => {
    const { lo: los, hi: his, refTimes, rangeMs, steps } = w;
    let resets: Int32Array | null = null;
    if (isCounter) {
      // prefix count of counter resets: a window without any skips the reset scan
      if (scratchResets.length < v.length) scratchResets = new Int32Array(Math.max(v.length, scratchResets.length * 2));
      resets = scratchResets;
      let c = 0;
      resets[0] = 0;
      for (let i = 1; i < v.length; i++) {
        if (v[i]! < v[i - 1]!) c++;
        resets[i] = c;
      }
    }
    let any = false;
    for (let i = 0; i < steps; i++) {
      const lo = los[i]!;
      const hi = his[i]!;
      if (hi - lo < 2) continue;
      const first = v[lo]!;
      const last = v[hi - 1]!;
      let result = last - first;
      if (resets && resets[hi - 1] !== resets[lo]) {
        let prev = 0;
        for (let k = lo; k < hi; k++) {
          const x = v[k]!;
          if (x < prev) result += prev;
          prev = x;
        }
      }
      const rangeEnd = refTimes[i]!;
      out[i] = extrapolate(result, first, t, lo, hi, rangeEnd - rangeMs, rangeEnd, rangeMs, isCounter, isRate);
      present[i] = 1;
      any = true;
    }
    return any;
  };
}

/** `sum_over_time` (isAvg false) and `avg_over_time` (true) with the Kahan sums of `sum_over_time`/`avg_over_time`. */
export function sumKernel(isAvg: boolean): SeriesKernel {
  return (_t, v, w, out, present) => {
    const { lo: los, hi: his, steps } = w;
    let any = false;
    for (let i = 0; i < steps; i++) {
      const lo = los[i]!;
      const hi = his[i]!;
      if (lo === hi) continue;
      let r: number;
      if (isAvg) {
        let mean = 0, c = 0, count = 0;
        for (let k = lo; k < hi; k++) {
          const x = v[k]!;
          count++;
          if (!Number.isFinite(mean) && !Number.isNaN(mean)) {
            if (!Number.isFinite(x) && !Number.isNaN(x) && (mean > 0) === (x > 0)) continue;
            if (Number.isFinite(x)) continue;
          }
          const inc = x / count - mean / count;
          const sum = mean + inc;
          if (Math.abs(mean) >= Math.abs(inc)) c += (mean - sum) + inc;
          else c += (inc - sum) + mean;
          mean = sum;
        }
        r = !Number.isFinite(mean) && !Number.isNaN(mean) ? mean : mean + c;
      } else {
        let sum = 0, c = 0;
        for (let k = lo; k < hi; k++) {
          const inc = v[k]!;
          const s = sum + inc;
          if (Math.abs(sum) >= Math.abs(inc)) c += (sum - s) + inc;
          else c += (inc - s) + sum;
          sum = s;
        }
        r = !Number.isFinite(sum) && !Number.isNaN(sum) ? sum : sum + c;
      }
      out[i] = r;
      present[i] = 1;
      any = true;
    }
    return any;
  };
}

let scratchDeque = new Int32Array(0);

/**
 * `min_over_time` / `max_over_time`: the extreme of the non-NaN samples (NaN only when every sample is NaN),
 * the earliest of equal ones, as the per-window loop. Windows only move forward, so a monotonic deque of
 * candidate indexes gives every step's answer in one pass over the samples.
 */
export function extremeKernel(isMax: boolean): SeriesKernel {
  return (_t, v, w, out, present) => {
    const { lo: los, hi: his, steps } = w;
    if (scratchDeque.length < v.length) scratchDeque = new Int32Array(Math.max(v.length, scratchDeque.length * 2));
    const dq = scratchDeque;
    let head = 0;
    let tail = 0; // dq[head..tail): indexes with values strictly decreasing (max) / increasing (min)
    let next = 0; // first sample not yet offered to the deque
    let any = false;
    for (let i = 0; i < steps; i++) {
      const lo = los[i]!;
      const hi = his[i]!;
      if (next < lo) next = lo;
      for (; next < hi; next++) {
        const x = v[next]!;
        if (x !== x) continue;
        if (isMax) while (tail > head && v[dq[tail - 1]!]! < x) tail--;
        else while (tail > head && v[dq[tail - 1]!]! > x) tail--;
        dq[tail++] = next;
      }
      while (head < tail && dq[head]! < lo) head++;
      if (lo === hi) continue;
      out[i] = head < tail ? v[dq[head]!]! : NaN;
      present[i] = 1;
      any = true;
    }
    return any;
  };
}

/** Functions of the window's bounds only (`count_over_time`, `last_over_time`, `present_over_time`). */
export function boundsKernel(f: (v: Float64Array, lo: number, hi: number) => number): SeriesKernel {
  return (_t, v, w, out, present) => {
    const { lo: los, hi: his, steps } = w;
    let any = false;
    for (let i = 0; i < steps; i++) {
      const lo = los[i]!;
      const hi = his[i]!;
      if (lo === hi) continue;
      out[i] = f(v, lo, hi);
      present[i] = 1;
      any = true;
    }
    return any;
  };
}

/**
 * Prometheus 2.x extrapolation of `result` (last - first over the samples t[lo..hi), counter resets added) to the
 * edges of the window [rangeStart, rangeEnd] (ms); a rate is divided by the window's length `rangeMs` in seconds.
 */
export function extrapolate(
  result: number, first: number, t: Float64Array, lo: number, hi: number,
  rangeStart: number, rangeEnd: number, rangeMs: number, isCounter: boolean, isRate: boolean,
): number {
  let durationToStart = (t[lo]! - rangeStart) / 1000;
  const durationToEnd = (rangeEnd - t[hi - 1]!) / 1000;
  const sampledInterval = (t[hi - 1]! - t[lo]!) / 1000;
  const avgBetween = sampledInterval / (hi - lo - 1);
  if (isCounter && result > 0 && first >= 0) {
    const durationToZero = sampledInterval * (first / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = avgBetween * 1.1;
  let extrapolateTo = sampledInterval;
  extrapolateTo += durationToStart < threshold ? durationToStart : avgBetween / 2;
  extrapolateTo += durationToEnd < threshold ? durationToEnd : avgBetween / 2;
  let factor = extrapolateTo / sampledInterval;
  if (isRate) factor /= rangeMs / 1000;
  return result * factor;
}
