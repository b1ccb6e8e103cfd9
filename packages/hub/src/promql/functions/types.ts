import type { Call, ValueType } from '../ast.js';
import type { EvalValue, Grid, RangeInput, StepSeries } from '../value.js';

/** What a function implementation can ask of the engine while it runs. */
export interface CallContext {
  node: Call;
  grid: Grid;
  /** Evaluates argument `i` (instant vector). */
  vector(i: number): Promise<StepSeries[]>;
  /** Evaluates argument `i` (scalar) at every step. */
  scalar(i: number): Promise<Float64Array>;
  string(i: number): Promise<string>;
  /** Evaluates argument `i` (range vector: matrix selector or subquery) into raw series and windows. */
  range(i: number): Promise<RangeInput>;
}

/** One entry of the function table: signature (checked by the parser) and implementation. */
export interface FunctionDef {
  name: string;
  argTypes: ValueType[];
  /** 0: exactly argTypes; k > 0: the last type may repeat up to k more times... as Prometheus counts it; -1: unbounded. */
  variadic: number;
  returnType: ValueType;
  call(ctx: CallContext): Promise<EvalValue>;
}

/**
 * A range-vector window: samples lo..hi-1 of t/v lie in [rangeStart, rangeEnd] (ms).
 * One object is reused for every step, so implementations must not keep it.
 */
export interface Window {
  t: Float64Array;
  v: Float64Array;
  lo: number;
  hi: number;
  rangeStart: number;
  rangeEnd: number;
  rangeMs: number;
  /** The evaluation time of the step (ms). */
  evalTs: number;
  /** Per-series scratch a function may fill on first use (e.g. prefix sums); reset for each series. */
  aux: Float64Array | null;
}
