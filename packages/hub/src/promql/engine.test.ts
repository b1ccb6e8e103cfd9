import t from 'tap';
import { Engine } from './engine.js';
import { QueryCanceledError, QueryExecutionError, QueryTimeoutError, TooManySamplesError } from './errors.js';
import { MemQueryable } from './testing/memory.js';
import type { Queryable } from '../storage/types.js';

function store(): MemQueryable {
  const m = new MemQueryable();
  for (let i = 0; i <= 60; i++) {
    m.add({ __name__: 'c', job: 'a' }, i * 15_000, i * 3);
    m.add({ __name__: 'c', job: 'b' }, i * 15_000, i === 30 ? 0 : i * 3, false);
  }
  return m;
}

t.test('a range query selects each selector once for the whole window', async (t) => {
  const mem = store();
  const calls: [number, number][] = [];
  const counting: Queryable = {
    querier: async (mint, maxt) => {
      calls.push([mint, maxt]);
      return mem.querier(mint, maxt);
    },
  };
  const res = await new Engine().rangeQuery(counting, 'sum(rate(c[5m])) / sum(c)', 300_000, 900_000, 15_000);
  t.equal(res.resultType, 'matrix');
  t.same(calls, [[0, 900_000], [0, 900_000]], 'one select per selector: [start - range, end] and [start - lookback, end]');
});

t.test('instant and range evaluation agree step by step', async (t) => {
  const e = new Engine();
  const mem = store();
  const range = await e.rangeQuery(mem, 'rate(c[2m])', 120_000, 900_000, 60_000);
  if (range.resultType !== 'matrix') return t.fail('not a matrix');
  for (const s of range.result) {
    for (let i = 0; i < s.t.length; i++) {
      const inst = await e.instantQuery(mem, `rate(c{job="${s.metric.job}"}[2m])`, s.t[i]!);
      if (inst.resultType !== 'vector') return t.fail('not a vector');
      t.equal(inst.result[0]?.v, s.v[i], `job ${s.metric.job} at ${s.t[i]}`);
    }
  }
});

t.test('counter resets are corrected inside the window', async (t) => {
  const res = await new Engine().instantQuery(store(), 'increase(c{job="b"}[15m])', 900_000);
  if (res.resultType !== 'vector') return t.fail('not a vector');
  // 0..180 by 3, except a drop to 0 at 450 s: 180 plus the 87 lost at the reset
  t.equal(res.result[0]!.v, 267);
});

t.test('limits: samples, timeout, cancellation', async (t) => {
  await t.rejects(new Engine({ maxSamples: 10 }).instantQuery(store(), 'c', 900_000), TooManySamplesError);
  await t.rejects(new Engine({ timeoutMs: -1 }).instantQuery(store(), 'c', 900_000), QueryTimeoutError);
  const ac = new AbortController();
  ac.abort();
  await t.rejects(new Engine().instantQuery(store(), 'c', 900_000, { signal: ac.signal }), QueryCanceledError);
});

t.test('same label set from two series is an execution error', async (t) => {
  await t.rejects(new Engine().instantQuery(store(), 'label_replace(c, "job", "x", "job", ".*")', 900_000), QueryExecutionError);
  await t.rejects(new Engine().instantQuery(store(), 'c * on() c', 900_000), QueryExecutionError);
});

t.test('subquery steps count against the sample limit before anything is evaluated', async (t) => {
  // 100 years at 1 s are 3.2e9 steps: refused before a grid, a selection or a point is allocated
  const mem = store();
  let selects = 0;
  const counting: Queryable = { querier: async (mint, maxt) => { selects++; return mem.querier(mint, maxt); } };
  const started = Date.now();
  await t.rejects(new Engine().instantQuery(counting, 'max_over_time(c[100y:1s])', 900_000), TooManySamplesError);
  await t.rejects(new Engine().rangeQuery(counting, 'max_over_time(c[100y:1s])', 0, 900_000, 60_000), TooManySamplesError);
  await t.rejects(new Engine().instantQuery(counting, 'max_over_time(max_over_time(c[1h:1s])[100y:1h])', 900_000), TooManySamplesError);
  t.equal(selects, 0, 'no data was selected');
  t.ok(Date.now() - started < 1_000, 'fails fast');
  // 601 steps fit a limit of 1,000 for one series, not for two (series x steps, counted before allocating)
  await t.resolves(new Engine({ maxSamples: 1_000 }).instantQuery(mem, 'max_over_time(c{job="a"}[10m:1s])', 900_000));
  await t.rejects(new Engine({ maxSamples: 1_000 }).instantQuery(mem, 'max_over_time(c[10m:1s])', 900_000), TooManySamplesError);
});

t.test('samples of range-vector selections count against the limit', async (t) => {
  // c has 61 samples per series; rate(c[15m]) at 900 s selects all 122
  await t.resolves(new Engine({ maxSamples: 122 }).instantQuery(store(), 'rate(c[15m])', 900_000));
  await t.rejects(new Engine({ maxSamples: 121 }).instantQuery(store(), 'rate(c[15m])', 900_000), TooManySamplesError);
  await t.rejects(new Engine({ maxSamples: 200 }).instantQuery(store(), 'rate(c[15m]) + rate(c[15m])', 900_000), TooManySamplesError, 'summed over the query');
});

t.test('an expression nested too deeply is a parse error, not a stack overflow', async (t) => {
  const e = new Engine();
  const mem = store();
  const deep = `${'('.repeat(10_000)}c${')'.repeat(10_000)}`;
  await t.rejects(e.instantQuery(mem, deep, 0), { name: 'PromQLParseError', message: /^1:1001: parse error: expression nests too deeply \(more than 1000 levels/ });
  await t.rejects(e.instantQuery(mem, Array(5_000).fill('c').join(' + '), 0), { name: 'PromQLParseError' }, 'a long operator chain');
  await t.rejects(e.instantQuery(mem, `${'-'.repeat(5_000)}c`, 0), { name: 'PromQLParseError' }, 'unary chain');
  await t.rejects(e.instantQuery(mem, `${'abs('.repeat(5_000)}c${')'.repeat(5_000)}`, 0), { name: 'PromQLParseError' }, 'nested calls');
  // the deepest accepted expressions evaluate
  const ok = await e.instantQuery(mem, `${'('.repeat(999)}c${')'.repeat(999)}`, 900_000);
  t.equal(ok.resultType === 'vector' && ok.result.length, 2);
  await t.resolves(e.instantQuery(mem, Array(1_000).fill('c').join(' + '), 900_000));
  await t.resolves(e.instantQuery(mem, `${'max_over_time('.repeat(300)}c${'[5m:1m])'.repeat(300)}`, 900_000));
});
