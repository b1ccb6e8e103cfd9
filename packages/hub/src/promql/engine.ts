// The PromQL evaluator. Every node is evaluated once over all steps of the query (an instant query is a
// one-step range query): selectors select their data once for the whole window and walk it with indexes.
import { labelsKey, silentLogger, withoutName, type Logger, type Matcher } from '@vigil/common';
import type { Queryable, SeriesData } from '../storage/types.js';
import { aggregate } from './aggregate.js';
import type { AtModifier, Call, Expr, MatrixSelector, SubqueryExpr, VectorMatching, VectorSelector } from './ast.js';
import { isSetOp } from './ast.js';
import { scalarBinop, setBinop, vectorBinop, vectorScalarBinop } from './binary.js';
import { BadParameterError, QueryCanceledError, QueryExecutionError, QueryTimeoutError, TooManySamplesError } from './errors.js';
import { FUNCTIONS, type CallContext } from './functions/index.js';
import { parseExpr, typeOf } from './parser.js';
import { sortByLabels, toInstantResult, toRangeResult } from './result.js';
import { newStepSeries, type EvalValue, type Grid, type QueryResult, type RangeInput, type RawSeries, type StepSeries } from './value.js';

export { compareLabels } from './result.js';

export interface EngineOptions {
  /** How far back an instant selector looks for a sample (default 5m). */
  lookbackDeltaMs?: number;
  /** Query timeout (default 2m). */
  timeoutMs?: number;
  /** Samples a query may load (default 50M). */
  maxSamples?: number;
  /** Step of subqueries written without one (`[5m:]`), Prometheus' global evaluation interval (default 1m). */
  defaultEvalIntervalMs?: number;
  logger?: Logger;
}

export interface QueryOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

const DEFAULT_MATCHING: VectorMatching = { card: 'one-to-one', labels: [], on: false, explicit: false, include: [] };

export class Engine {
  readonly lookbackDeltaMs: number;
  readonly timeoutMs: number;
  readonly maxSamples: number;
  readonly defaultEvalIntervalMs: number;
  private readonly logger: Logger;

  constructor(opts: EngineOptions = {}) {
    this.lookbackDeltaMs = opts.lookbackDeltaMs ?? 300_000;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.maxSamples = opts.maxSamples ?? 50_000_000;
    this.defaultEvalIntervalMs = opts.defaultEvalIntervalMs ?? 60_000;
    this.logger = (opts.logger ?? silentLogger).child({ component: 'promql' });
  }

  /** Evaluates `expr` at one time (ms). */
  async instantQuery(q: Queryable, expr: string, timeMs: number, opts: QueryOptions = {}): Promise<QueryResult> {
    const ast = parseExpr(expr);
    const grid: Grid = { start: timeMs, end: timeMs, step: 1, n: 1 };
    const ev = this.evaluator(q, grid, opts);
    const val = await ev.eval(ast, grid);
    return toInstantResult(val, timeMs);
  }

  /** Evaluates `expr` at start, start+step, ..., end (ms). */
  async rangeQuery(q: Queryable, expr: string, startMs: number, endMs: number, stepMs: number, opts: QueryOptions = {}): Promise<QueryResult> {
    const ast = parseExpr(expr);
    const t = typeOf(ast);
    if (t !== 'scalar' && t !== 'vector') {
      throw new BadParameterError(`invalid expression type "${t === 'matrix' ? 'range vector' : t}" for range query, must be Scalar or instant Vector`);
    }
    const n = Math.floor((endMs - startMs) / stepMs) + 1;
    const grid: Grid = { start: startMs, end: startMs + (n - 1) * stepMs, step: stepMs, n };
    const ev = this.evaluator(q, grid, opts);
    const val = await ev.eval(ast, grid);
    return toRangeResult(val, grid);
  }

  private evaluator(q: Queryable, grid: Grid, opts: QueryOptions): Evaluator {
    const deadline = Date.now() + Math.min(opts.timeoutMs ?? this.timeoutMs, this.timeoutMs);
    if (this.logger.isLevelEnabled?.('debug')) this.logger.debug({ start: grid.start, end: grid.end, step: grid.step }, 'evaluating query');
    return new Evaluator(q, this, grid, deadline, opts.signal);
  }
}

function unwrap(e: Expr): Expr {
  while (e.type === 'paren') e = e.expr;
  return e;
}

class Evaluator {
  private samples = 0;

  constructor(
    private readonly q: Queryable,
    private readonly engine: Engine,
    private readonly query: Grid,
    private readonly deadline: number,
    private readonly signal: AbortSignal | undefined,
  ) {}

  private check(phase: string): void {
    if (this.signal?.aborted) throw new QueryCanceledError(phase);
    if (Date.now() > this.deadline) throw new QueryTimeoutError(phase);
  }

  private count(n: number): void {
    this.samples += n;
    if (this.samples > this.engine.maxSamples) throw new TooManySamplesError();
  }

  /** Refuses, before they are allocated, `points` more held at once (series x steps of one node). */
  private reserve(points: number): void {
    if (this.samples + points > this.engine.maxSamples) throw new TooManySamplesError();
  }

  private atTime(at: AtModifier): number {
    return at.kind === 'time' ? at.ms : at.kind === 'start' ? this.query.start : this.query.end;
  }

  /** Per step, the time a selector reads at (after @ and offset). */
  private refTimes(at: AtModifier | null, offset: number, g: Grid): { refs: Float64Array; invariant: boolean } {
    const refs = new Float64Array(g.n);
    if (at) {
      refs.fill(this.atTime(at) - offset);
      return { refs, invariant: true };
    }
    for (let i = 0; i < g.n; i++) refs[i] = g.start + i * g.step - offset;
    return { refs, invariant: false };
  }

  private async select(matchers: readonly Matcher[], mint: number, maxt: number): Promise<SeriesData[]> {
    this.check('query preparation');
    const querier = await this.q.querier(mint, maxt);
    try {
      const data = await querier.select(matchers);
      let total = 0;
      for (const s of data) total += s.t.length;
      this.count(total);
      // Prometheus hands series to the evaluator sorted by labels; ties in topk etc. depend on it
      return data.length > 1 ? sortByLabels(data) : data;
    } finally {
      querier.close();
    }
  }

  async eval(e: Expr, g: Grid): Promise<EvalValue> {
    this.check('expression evaluation');
    const v = await this.evalNode(e, g);
    // the points one node holds (series x steps) are bounded like the samples a query loads
    if (v.kind === 'vector' && v.series.length * g.n > this.engine.maxSamples) throw new TooManySamplesError();
    return v;
  }

  private async evalNode(e: Expr, g: Grid): Promise<EvalValue> {
    switch (e.type) {
      case 'number': return { kind: 'scalar', v: new Float64Array(g.n).fill(e.value) };
      case 'string': return { kind: 'string', value: e.value };
      case 'paren': return this.eval(e.expr, g);
      case 'vector': return { kind: 'vector', series: await this.evalVector(e, g, false) };
      case 'matrix': case 'subquery': return { kind: 'matrix', series: await this.evalRangeRaw(e, g) };
      case 'unary': {
        const v = await this.eval(e.expr, g);
        if (e.op === '+') return v;
        if (v.kind === 'scalar') return { kind: 'scalar', v: v.v.map((x) => -x) };
        if (v.kind !== 'vector') throw new QueryExecutionError('unary minus on a non-vector');
        const out = v.series.map((s) => ({ labels: withoutName(s.labels), v: s.v.map((x) => -x), present: s.present }));
        return { kind: 'vector', series: mergeSameLabels(out, g.n) };
      }
      case 'binary': {
        const l = await this.eval(e.lhs, g);
        const r = await this.eval(e.rhs, g);
        if (l.kind === 'scalar' && r.kind === 'scalar') return { kind: 'scalar', v: scalarBinop(e.op, l.v, r.v, e.returnBool) };
        if (l.kind === 'vector' && r.kind === 'scalar') return { kind: 'vector', series: vectorScalarBinop(e.op, l.series, r.v, false, e.returnBool, g.n) };
        if (l.kind === 'scalar' && r.kind === 'vector') return { kind: 'vector', series: vectorScalarBinop(e.op, r.series, l.v, true, e.returnBool, g.n) };
        if (l.kind === 'vector' && r.kind === 'vector') {
          const m = e.matching ?? DEFAULT_MATCHING;
          if (isSetOp(e.op)) return { kind: 'vector', series: setBinop(e.op, l.series, r.series, m, g.n) };
          return { kind: 'vector', series: vectorBinop(e.op, l.series, r.series, m, e.returnBool, g.n) };
        }
        throw new QueryExecutionError(`cannot apply ${e.op} to ${l.kind} and ${r.kind}`);
      }
      case 'aggregate': {
        let param: Float64Array | string | null = null;
        if (e.param) {
          const p = await this.eval(e.param, g);
          param = p.kind === 'string' ? p.value : p.kind === 'scalar' ? p.v : null;
        }
        const v = await this.eval(e.expr, g);
        if (v.kind !== 'vector') throw new QueryExecutionError(`cannot aggregate a ${v.kind}`);
        return { kind: 'vector', series: aggregate(e, v.series, param, g.n) };
      }
      case 'call': return this.evalCall(e, g);
    }
  }

  private async evalCall(e: Call, g: Grid): Promise<EvalValue> {
    const fn = FUNCTIONS.get(e.func);
    if (!fn) throw new QueryExecutionError(`unknown function ${e.func}`);
    const ctx: CallContext = {
      node: e,
      grid: g,
      vector: async (i) => {
        const arg = unwrap(e.args[i]!);
        if (e.func === 'timestamp' && arg.type === 'vector') return this.evalVector(arg, g, true);
        const v = await this.eval(arg, g);
        if (v.kind !== 'vector') throw new QueryExecutionError(`expected instant vector argument to ${e.func}`);
        return v.series;
      },
      scalar: async (i) => {
        const v = await this.eval(e.args[i]!, g);
        if (v.kind !== 'scalar') throw new QueryExecutionError(`expected scalar argument to ${e.func}`);
        return v.v;
      },
      string: async (i) => {
        const v = await this.eval(e.args[i]!, g);
        if (v.kind !== 'string') throw new QueryExecutionError(`expected string argument to ${e.func}`);
        return v.value;
      },
      range: (i) => this.evalRange(unwrap(e.args[i]!), g),
    };
    const out = await fn.call(ctx);
    if (out.kind === 'vector' && fn.returnType === 'vector') return { kind: 'vector', series: mergeSameLabels(out.series, g.n) };
    return out;
  }

  /** An instant vector selector at every step: the newest sample within the lookback window, unless stale. */
  private async evalVector(vs: VectorSelector, g: Grid, withTs: boolean): Promise<StepSeries[]> {
    const { refs } = this.refTimes(vs.at, vs.offset, g);
    const lookback = this.engine.lookbackDeltaMs;
    const data = await this.select(vs.matchers, refs[0]! - lookback, refs[g.n - 1]!);
    this.reserve(data.length * g.n);
    const out: StepSeries[] = [];
    for (const d of data) {
      const s = newStepSeries(d.labels, g.n);
      if (withTs) s.ts = new Float64Array(g.n);
      const { t, v, stale } = d;
      const len = t.length;
      let j = 0;
      let any = false;
      for (let i = 0; i < g.n; i++) {
        const ref = refs[i]!;
        while (j < len && t[j]! <= ref) j++;
        if (j === 0) continue;
        const k = j - 1;
        if (t[k]! < ref - lookback) continue;
        if (stale && stale[k]) continue;
        s.v[i] = v[k]!;
        s.present[i] = 1;
        if (s.ts) s.ts[i] = t[k]!;
        any = true;
      }
      if (any) out.push(s);
    }
    return out;
  }

  /** A range vector argument (matrix selector or subquery) as raw series plus per-step windows. */
  private async evalRange(e: Expr, g: Grid): Promise<RangeInput> {
    if (e.type === 'matrix') {
      const vs = e.vector;
      const { refs, invariant } = this.refTimes(vs.at, vs.offset, g);
      const data = await this.select(vs.matchers, refs[0]! - e.rangeMs, refs[g.n - 1]!);
      return { series: data.map(withoutStale), refTimes: refs, rangeMs: e.rangeMs, invariant };
    }
    if (e.type === 'subquery') {
      const { refs, invariant } = this.refTimes(e.at, e.offset, g);
      const series = await this.evalSubquery(e, refs[0]! - e.rangeMs, refs[g.n - 1]!);
      return { series, refTimes: refs, rangeMs: e.rangeMs, invariant };
    }
    throw new QueryExecutionError(`expected a range vector, got ${e.type}`);
  }

  /** Evaluates a subquery's inner expression on its own step grid covering [from, to]. */
  private async evalSubquery(e: SubqueryExpr, from: number, to: number): Promise<RawSeries[]> {
    const step = e.stepMs || this.engine.defaultEvalIntervalMs;
    let start = step * Math.trunc(from / step);
    if (start < from) start += step;
    if (start > to) return [];
    const n = Math.floor((to - start) / step) + 1;
    // every step of the inner grid is a point for each series it yields, and the grid itself is memory:
    // counted before evaluating (`max_over_time(up[100y:1s])` fails here instead of allocating 3e9 steps)
    this.reserve(n);
    const inner: Grid = { start, end: start + (n - 1) * step, step, n };
    const v = await this.eval(e.expr, inner);
    if (v.kind !== 'vector') throw new QueryExecutionError('subquery is only allowed on instant vector');
    const out: RawSeries[] = [];
    let total = 0;
    for (const s of v.series) {
      let c = 0;
      for (let i = 0; i < n; i++) if (s.present[i]) c++;
      const t = new Float64Array(c);
      const vals = new Float64Array(c);
      let k = 0;
      for (let i = 0; i < n; i++) {
        if (!s.present[i]) continue;
        t[k] = start + i * step;
        vals[k++] = s.v[i]!;
      }
      total += c;
      if (c > 0) out.push({ labels: s.labels, t, v: vals });
    }
    this.count(total);
    return out;
  }

  /** A range vector as a query result (instant queries only): the samples of each series in its window. */
  private async evalRangeRaw(e: MatrixSelector | SubqueryExpr, g: Grid): Promise<RawSeries[]> {
    const input = await this.evalRange(e, g);
    const end = input.refTimes[0]!;
    const start = end - input.rangeMs;
    const out: RawSeries[] = [];
    for (const s of input.series) {
      let lo = 0;
      while (lo < s.t.length && s.t[lo]! < start) lo++;
      let hi = lo;
      while (hi < s.t.length && s.t[hi]! <= end) hi++;
      if (hi > lo) out.push({ labels: s.labels, t: s.t.slice(lo, hi), v: s.v.slice(lo, hi) });
    }
    return out;
  }
}

function withoutStale(d: SeriesData): RawSeries {
  const { stale } = d;
  if (!stale || !stale.includes(1)) return { labels: d.labels, t: d.t, v: d.v };
  let c = 0;
  for (let i = 0; i < stale.length; i++) if (!stale[i]) c++;
  const t = new Float64Array(c);
  const v = new Float64Array(c);
  let k = 0;
  for (let i = 0; i < stale.length; i++) {
    if (stale[i]) continue;
    t[k] = d.t[i]!;
    v[k++] = d.v[i]!;
  }
  return { labels: d.labels, t, v };
}

/**
 * Series that ended up with the same labels (after a function dropped the name or relabelled) are one
 * series; if two of them have a value at the same step, the query fails as in Prometheus.
 */
export function mergeSameLabels(series: StepSeries[], n: number): StepSeries[] {
  if (series.length < 2) return series;
  const byKey = new Map<string, StepSeries>();
  let merged = false;
  const out: StepSeries[] = [];
  for (const s of series) {
    const key = labelsKey(s.labels);
    const prev = byKey.get(key);
    if (!prev) { byKey.set(key, s); out.push(s); continue; }
    if (!merged) {
      // copy before writing: the first series may be shared with an argument
      const copy: StepSeries = { labels: prev.labels, v: prev.v.slice(), present: prev.present.slice() };
      out[out.indexOf(prev)] = copy;
      byKey.set(key, copy);
      merged = true;
    }
    const target = byKey.get(key)!;
    for (let i = 0; i < n; i++) {
      if (!s.present[i]) continue;
      if (target.present[i]) throw new QueryExecutionError('vector cannot contain metrics with the same labelset');
      target.v[i] = s.v[i]!;
      target.present[i] = 1;
    }
  }
  return out;
}
