// Functions over instant vectors and scalars: math, clamping, time and date parts, scalar/vector conversion.
import { withoutName } from '@vigil/common';
import { newStepSeries, type EvalValue, type StepSeries } from '../value.js';
import type { CallContext } from './types.js';

type Impl = (ctx: CallContext) => Promise<EvalValue>;

/** Applies `f` to every value of the vector argument; the metric name is dropped. */
export function mapValues(f: (x: number, step: number) => number | undefined, keepName = false): (series: StepSeries[], n: number) => StepSeries[] {
  return (series, n) => {
    const out: StepSeries[] = [];
    for (const s of series) {
      const r = newStepSeries(keepName ? s.labels : withoutName(s.labels), n);
      let any = false;
      for (let i = 0; i < n; i++) {
        if (!s.present[i]) continue;
        const y = f(s.v[i]!, i);
        if (y === undefined) continue;
        r.v[i] = y;
        r.present[i] = 1;
        any = true;
      }
      if (any) out.push(r);
    }
    return out;
  };
}

export function math(f: (x: number) => number): Impl {
  const map = mapValues(f);
  return async (ctx) => ({ kind: 'vector', series: map(await ctx.vector(0), ctx.grid.n) });
}

export const MATH: Record<string, (x: number) => number> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  exp: Math.exp,
  sqrt: Math.sqrt,
  ln: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  sgn: (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
  acos: Math.acos, acosh: Math.acosh, asin: Math.asin, asinh: Math.asinh, atan: Math.atan, atanh: Math.atanh,
  cos: Math.cos, cosh: Math.cosh, sin: Math.sin, sinh: Math.sinh, tan: Math.tan, tanh: Math.tanh,
  deg: (x) => (x * 180) / Math.PI,
  rad: (x) => (x * Math.PI) / 180,
};

export const round: Impl = async (ctx) => {
  const to = ctx.node.args.length > 1 ? await ctx.scalar(1) : null;
  const map = mapValues((x, i) => {
    const inv = 1 / (to ? to[i]! : 1);
    return Math.floor(x * inv + 0.5) / inv;
  });
  return { kind: 'vector', series: map(await ctx.vector(0), ctx.grid.n) };
};

export const clamp: Impl = async (ctx) => {
  const lo = await ctx.scalar(1);
  const hi = await ctx.scalar(2);
  const map = mapValues((x, i) => (hi[i]! < lo[i]! ? undefined : Math.max(lo[i]!, Math.min(hi[i]!, x))));
  return { kind: 'vector', series: map(await ctx.vector(0), ctx.grid.n) };
};

export const clampMax: Impl = async (ctx) => {
  const hi = await ctx.scalar(1);
  return { kind: 'vector', series: mapValues((x, i) => Math.min(hi[i]!, x))(await ctx.vector(0), ctx.grid.n) };
};

export const clampMin: Impl = async (ctx) => {
  const lo = await ctx.scalar(1);
  return { kind: 'vector', series: mapValues((x, i) => Math.max(lo[i]!, x))(await ctx.vector(0), ctx.grid.n) };
};

export const time: Impl = async (ctx) => {
  const v = new Float64Array(ctx.grid.n);
  for (let i = 0; i < v.length; i++) v[i] = (ctx.grid.start + i * ctx.grid.step) / 1000;
  return { kind: 'scalar', v };
};

export const pi: Impl = async (ctx) => ({ kind: 'scalar', v: new Float64Array(ctx.grid.n).fill(Math.PI) });

export const vector: Impl = async (ctx) => {
  const v = await ctx.scalar(0);
  const s = newStepSeries({}, ctx.grid.n);
  s.v.set(v);
  s.present.fill(1);
  return { kind: 'vector', series: [s] };
};

export const scalar: Impl = async (ctx) => {
  const series = await ctx.vector(0);
  const out = new Float64Array(ctx.grid.n).fill(NaN);
  for (let i = 0; i < out.length; i++) {
    let count = 0;
    let val = NaN;
    for (const s of series) if (s.present[i]) { count++; val = s.v[i]!; }
    if (count === 1) out[i] = val;
  }
  return { kind: 'scalar', v: out };
};

export const timestamp: Impl = async (ctx) => {
  const series = await ctx.vector(0);
  const n = ctx.grid.n;
  const out: StepSeries[] = [];
  for (const s of series) {
    const r = newStepSeries(withoutName(s.labels), n);
    for (let i = 0; i < n; i++) {
      if (!s.present[i]) continue;
      r.present[i] = 1;
      r.v[i] = (s.ts ? s.ts[i]! : ctx.grid.start + i * ctx.grid.step) / 1000;
    }
    out.push(r);
  }
  return { kind: 'vector', series: out };
};

/** Date parts of a vector of unix times (default: the evaluation time), in UTC. */
export function datePart(f: (d: Date) => number): Impl {
  return async (ctx) => {
    const n = ctx.grid.n;
    if (ctx.node.args.length === 0) {
      const s = newStepSeries({}, n);
      for (let i = 0; i < n; i++) {
        s.v[i] = f(new Date(ctx.grid.start + i * ctx.grid.step));
        s.present[i] = 1;
      }
      return { kind: 'vector', series: [s] };
    }
    const map = mapValues((x) => (Number.isFinite(x) ? f(new Date(Math.trunc(x) * 1000)) : NaN));
    return { kind: 'vector', series: map(await ctx.vector(0), n) };
  };
}

export const DATE_PARTS: Record<string, (d: Date) => number> = {
  day_of_month: (d) => d.getUTCDate(),
  day_of_week: (d) => d.getUTCDay(),
  day_of_year: (d) => Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1,
  days_in_month: (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate(),
  hour: (d) => d.getUTCHours(),
  minute: (d) => d.getUTCMinutes(),
  month: (d) => d.getUTCMonth() + 1,
  year: (d) => d.getUTCFullYear(),
};

/** Sorts an instant query's result by value; NaN goes last in both directions, as in Prometheus 2.x. */
export function sortFn(desc: boolean): Impl {
  return async (ctx) => {
    const series = await ctx.vector(0);
    if (ctx.grid.n !== 1) return { kind: 'vector', series };
    const sorted = series.filter((s) => s.present[0]).sort((a, b) => {
      const x = a.v[0]!, y = b.v[0]!;
      if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : 1;
      if (Number.isNaN(y)) return -1;
      return desc ? y - x : x - y;
    });
    return { kind: 'vector', series: sorted };
  };
}

/** A native-histogram function: evaluates its vector argument (for errors and limits) and finds no histogram samples. */
export function nativeOnly(vectorArg: number): Impl {
  return async (ctx) => {
    await ctx.vector(vectorArg);
    return { kind: 'vector', series: [] };
  };
}
