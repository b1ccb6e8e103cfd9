// The function table: one entry per PromQL function (name, argument types, return type, implementation).
// The parser checks calls against it; the engine runs `call`.
import type { ValueType } from '../ast.js';
import {
  clamp, clampMax, clampMin, DATE_PARTS, datePart, math, MATH, nativeOnly, pi, round, scalar, sortFn, time, timestamp, vector,
} from './instant.js';
import { absent, absentOverTime, histogramQuantile, labelJoin, labelReplace } from './labels.js';
import { overRange, RANGE_FUNCTIONS } from './range.js';
import type { FunctionDef } from './types.js';

export type { CallContext, FunctionDef, Window } from './types.js';
export { quantile } from './range.js';

const V: ValueType = 'vector';
const S: ValueType = 'scalar';
const M: ValueType = 'matrix';
const STR: ValueType = 'string';

const entries: FunctionDef[] = [
  { name: 'abs', argTypes: [V], variadic: 0, returnType: V, call: math(MATH.abs!) },
  { name: 'absent', argTypes: [V], variadic: 0, returnType: V, call: absent },
  { name: 'absent_over_time', argTypes: [M], variadic: 0, returnType: V, call: absentOverTime },
  { name: 'clamp', argTypes: [V, S, S], variadic: 0, returnType: V, call: clamp },
  { name: 'clamp_max', argTypes: [V, S], variadic: 0, returnType: V, call: clampMax },
  { name: 'clamp_min', argTypes: [V, S], variadic: 0, returnType: V, call: clampMin },
  { name: 'histogram_quantile', argTypes: [S, V], variadic: 0, returnType: V, call: histogramQuantile },
  { name: 'label_join', argTypes: [V, STR, STR, STR], variadic: -1, returnType: V, call: labelJoin },
  { name: 'label_replace', argTypes: [V, STR, STR, STR, STR], variadic: 0, returnType: V, call: labelReplace },
  { name: 'pi', argTypes: [], variadic: 0, returnType: S, call: pi },
  { name: 'round', argTypes: [V, S], variadic: 1, returnType: V, call: round },
  { name: 'scalar', argTypes: [V], variadic: 0, returnType: S, call: scalar },
  { name: 'sort', argTypes: [V], variadic: 0, returnType: V, call: sortFn(false) },
  { name: 'sort_desc', argTypes: [V], variadic: 0, returnType: V, call: sortFn(true) },
  { name: 'time', argTypes: [], variadic: 0, returnType: S, call: time },
  { name: 'timestamp', argTypes: [V], variadic: 0, returnType: V, call: timestamp },
  { name: 'vector', argTypes: [S], variadic: 0, returnType: V, call: vector },
  // Native-histogram functions: Vigil stores floats and classic histograms only, so these find nothing,
  // exactly as Prometheus answers them over float series.
  { name: 'histogram_count', argTypes: [V], variadic: 0, returnType: V, call: nativeOnly(0) },
  { name: 'histogram_sum', argTypes: [V], variadic: 0, returnType: V, call: nativeOnly(0) },
  { name: 'histogram_fraction', argTypes: [S, S, V], variadic: 0, returnType: V, call: nativeOnly(2) },
];

for (const [name, f] of Object.entries(MATH)) {
  if (name !== 'abs') entries.push({ name, argTypes: [V], variadic: 0, returnType: V, call: math(f) });
}
for (const [name, f] of Object.entries(DATE_PARTS)) {
  entries.push({ name, argTypes: [V], variadic: 1, returnType: V, call: datePart(f) });
}
for (const [name, r] of Object.entries(RANGE_FUNCTIONS)) {
  const argTypes = r.args.map((a) => (a === 'matrix' ? M : S));
  entries.push({ name, argTypes, variadic: 0, returnType: V, call: overRange(r.args.indexOf('matrix'), r.args.length, r.fn, r.keepName, r.kernel) });
}

/** Every PromQL function by name. */
export const FUNCTIONS: ReadonlyMap<string, FunctionDef> = new Map(entries.map((e) => [e.name, e]));
