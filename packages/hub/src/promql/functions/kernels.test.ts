import t from 'tap';
import type { Call } from '../ast.js';
import type { EvalValue, RangeInput, StepSeries } from '../value.js';
import { overRange, RANGE_FUNCTIONS } from './range.js';
import type { CallContext } from './types.js';

/** Series with gaps, counter resets, NaN, ±Inf and jittered timestamps, from a fixed seed. */
function makeInput(seed: number, n: number, invariant: boolean): { input: RangeInput; grid: { start: number; end: number; step: number; n: number } } {
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const series = [];
  for (let k = 0; k < 6; k++) {
    const t: number[] = [];
    const v: number[] = [];
    let ts = 0;
    let x = k === 0 ? -5 : 0;
    for (let i = 0; i < 400; i++) {
      ts += rnd() < 0.1 ? 60_000 + Math.floor(rnd() * 200_000) : 15_000 + Math.floor(rnd() * 100);
      const r = rnd();
      if (k >= 4 && r < 0.03) x = [NaN, Infinity, -Infinity][Math.floor(rnd() * 3)]!;
      else if (r < 0.05) x = rnd() * 3; // reset
      else x = (Number.isFinite(x) ? x : 0) + rnd() * (k === 3 ? 1e12 : 10);
      t.push(ts);
      v.push(x);
    }
    series.push({ labels: { __name__: 'm', k: String(k) }, t: Float64Array.from(t), v: Float64Array.from(v) });
  }
  const step = 30_000;
  const refTimes = new Float64Array(n);
  for (let i = 0; i < n; i++) refTimes[i] = invariant ? 3_000_000 : 100_000 + i * step;
  return { input: { series, refTimes, rangeMs: 300_000, invariant }, grid: { start: 100_000, end: 100_000 + (n - 1) * step, step, n } };
}

async function run(name: string, withKernel: boolean, input: RangeInput, grid: CallContext['grid']): Promise<StepSeries[]> {
  const def = RANGE_FUNCTIONS[name]!;
  const impl = overRange(0, 1, def.fn, def.keepName, withKernel ? def.kernel : undefined);
  const ctx = {
    node: { type: 'call', func: name, args: [{}] } as unknown as Call,
    grid,
    range: async () => input,
  } as unknown as CallContext;
  const out: EvalValue = await impl(ctx);
  return out.kind === 'vector' ? out.series : [];
}

t.test('whole-series kernels give exactly the per-window results', async (t) => {
  const names = Object.keys(RANGE_FUNCTIONS).filter((n) => RANGE_FUNCTIONS[n]!.kernel);
  t.ok(names.includes('rate') && names.includes('avg_over_time'), 'hot functions have kernels');
  for (const invariant of [false, true]) {
    const { input, grid } = makeInput(invariant ? 11 : 3, 200, invariant);
    for (const name of names) {
      const a = await run(name, true, input, grid);
      const b = await run(name, false, input, grid);
      t.equal(a.length, b.length, `${name}: series`);
      let same = true;
      for (let j = 0; j < a.length && same; j++) {
        t.same(a[j]!.labels, b[j]!.labels);
        for (let i = 0; i < grid.n; i++) {
          const x = a[j]!.v[i]!, y = b[j]!.v[i]!;
          if (a[j]!.present[i] !== b[j]!.present[i] || !(Object.is(x, y))) { same = false; t.fail(`${name} series ${j} step ${i}: ${x} != ${y}`); break; }
        }
      }
      if (same) t.pass(`${name}${invariant ? ' (@)' : ''}: identical`);
    }
  }
});
