import type { Labels } from '@vigil/common';

/** The evaluation steps of a query: `n` timestamps start, start+step, ... (ms). An instant query has n = 1. */
export interface Grid {
  start: number;
  end: number;
  step: number;
  n: number;
}

export function gridTime(g: Grid, i: number): number {
  return g.start + i * g.step;
}

/** An instant vector evaluated at every step of a grid: `present[i]` says whether the series has a value at step i. */
export interface StepSeries {
  labels: Labels;
  v: Float64Array;
  present: Uint8Array;
  /** Sample timestamps per step (ms), only on the output of a plain vector selector (for `timestamp()`). */
  ts?: Float64Array;
}

/** Raw samples of one series (range vectors), staleness markers removed. */
export interface RawSeries {
  labels: Labels;
  t: Float64Array;
  v: Float64Array;
}

/** A range vector argument: raw series plus, per step, the window [refTime - range, refTime]. */
export interface RangeInput {
  series: RawSeries[];
  /** Per step of the grid, the window's end (ms). */
  refTimes: Float64Array;
  rangeMs: number;
  /** All steps share one window (`@` modifier). */
  invariant: boolean;
}

export type EvalValue =
  | { kind: 'vector'; series: StepSeries[] }
  | { kind: 'scalar'; v: Float64Array }
  | { kind: 'string'; value: string }
  | { kind: 'matrix'; series: RawSeries[] };

/** A query's answer, in the shape the HTTP API serialises. */
export type QueryResult =
  | { resultType: 'vector'; result: { metric: Labels; t: number; v: number }[]; warnings: string[] }
  | {
    resultType: 'matrix';
    result: { metric: Labels; t: Float64Array; v: Float64Array }[];
    warnings: string[];
    /** Set for range queries: every timestamp is start + k * step (lets the API format each one once). */
    grid?: { start: number; step: number; n: number };
  }
  | { resultType: 'scalar'; result: { t: number; v: number }; warnings: string[] }
  | { resultType: 'string'; result: { t: number; v: string }; warnings: string[] };

export function newStepSeries(labels: Labels, n: number): StepSeries {
  return { labels, v: new Float64Array(n), present: new Uint8Array(n) };
}
