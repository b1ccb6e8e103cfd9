/**
 * Fuzz tests of the PromQL parser: random token sequences, random strings and mutated valid
 * queries give an AST or a PromQLParseError, never another exception (RangeError, TypeError),
 * within a second; the printer's output of a parsed query parses to the same printed form.
 *
 * Valid queries are those of the test scripts and oracle files under src/promql/testdata.
 * FUZZ_RUNS scales the number of cases (default 10,000), FUZZ_SEED replays a failure.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import t from 'tap';
import { PromQLParseError } from './errors.js';
import { parseExpr, parseSelector } from './parser.js';
import { formatExpr } from './printer.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
// tap's default of 30 s per file is too short for 10,000 cases on a loaded CI machine
t.setTimeout(300_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261204);
const CASE_LIMIT_MS = 1000;

const dir = fileURLToPath(new URL('../../src/promql/testdata/', import.meta.url));
const corpus: string[] = [];
for (const f of readdirSync(dir)) {
  for (const line of readFileSync(dir + f, 'utf8').split('\n')) {
    const m = /^(?:eval(?:_fail)?(?:_ordered)? instant at \S+|instant|range) (.+)$/.exec(line);
    if (m) corpus.push(m[1]!);
  }
}

function parsesOrRefuses(q: string): void {
  const start = performance.now();
  for (const parse of [parseExpr, parseSelector]) {
    try {
      parse(q);
    } catch (err) {
      if (!(err instanceof PromQLParseError)) throw err;
    }
  }
  const ms = performance.now() - start;
  if (ms > CASE_LIMIT_MS) throw new Error(`parsing took ${ms.toFixed(0)} ms`);
}

const TOKENS = ['(', ')', '{', '}', '[', ']', ',', '=', '!=', '=~', '!~', '+', '-', '*', '/', '%', '^', '==', '>', '<=', 'and', 'or', 'unless',
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', '@', 'start()', 'end()', 'sum', 'rate', 'histogram_quantile',
  'label_replace', 'topk', 'count_values', 'quantile', 'abs', 'vector', 'time', 'up', 'x_total', '__name__', 'job', '"a"', "'b'", '`c`', '"\\x"',
  '"(a+)+b"', '1', '0.5', '-1', '1e308', '1e400', 'Inf', 'NaN', '0x1F', '5m', '1h30m', '100y', '0s', ':', '1s', '#', ' ', '\n', '"', '\u00e9', 'nan'];
const tokenSeq = fc.array(fc.constantFrom(...TOKENS), { maxLength: 20 }).map((ts) => ts.join(' '));
const tokenSeqTight = fc.array(fc.constantFrom(...TOKENS), { maxLength: 20 }).map((ts) => ts.join(''));

const edit = fc.record({ at: fc.nat(), kind: fc.nat(3), text: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 3 })), len: fc.integer({ min: 1, max: 6 }) });
function mutate(q: string, es: readonly { at: number; kind: number; text: string; len: number }[]): string {
  let s = q;
  for (const e of es) {
    const at = e.at % (s.length + 1);
    if (e.kind === 0) s = s.slice(0, at) + e.text + s.slice(at);
    else if (e.kind === 1) s = s.slice(0, at) + s.slice(at + e.len);
    else if (e.kind === 2) s = s.slice(0, at) + e.text + s.slice(at + e.text.length);
    else s = s.slice(0, at) + s.slice(at, at + e.len * 3) + s.slice(at);
  }
  return s;
}

t.test(`the corpus of ${corpus.length} queries`, async (t) => {
  t.ok(corpus.length > 200);
  for (const q of corpus) parsesOrRefuses(q);
});

t.test('random token sequences and strings: an AST or a PromQLParseError', async (t) => {
  fc.assert(fc.property(tokenSeq, parsesOrRefuses), { numRuns: RUNS, seed: SEED, includeErrorInReport: true });
  fc.assert(fc.property(tokenSeqTight, parsesOrRefuses), { numRuns: RUNS / 2, seed: SEED, includeErrorInReport: true });
  fc.assert(fc.property(fc.string({ maxLength: 40 }), parsesOrRefuses), { numRuns: RUNS / 2, seed: SEED, includeErrorInReport: true });
  t.pass(`${RUNS * 2} inputs`);
});

t.test('deep nesting: an AST or a PromQLParseError, not a stack overflow (security issue, defect 3)', async (t) => {
  const deep = fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom<[string, string, string]>(
    ['(', '1', ')'], ['-', '1', ''], ['sum(', 'up', ')'], ['abs(', 'up', ')'], ['', '1', '+1'], ['', 'up', ' or up'], ['', 'up', '[5m:1m]'], ['-(', '1', ')'],
  )).map(([n, [open, core, close]]) => open.repeat(n) + core + close.repeat(n));
  fc.assert(fc.property(deep, parsesOrRefuses), { numRuns: 150, seed: SEED, includeErrorInReport: true });
  t.pass('150 nested expressions up to 20,000 levels');
});

t.test('mutated valid queries: an AST or a PromQLParseError', async (t) => {
  fc.assert(fc.property(fc.constantFrom(...corpus), fc.array(edit, { minLength: 1, maxLength: 3 }), (q, es) => parsesOrRefuses(mutate(q, es))),
    { numRuns: RUNS, seed: SEED, includeErrorInReport: true });
  t.pass(`${RUNS} mutated queries`);
});

t.test('printer round trip: what parses prints to a query that parses to the same print', async (t) => {
  const valid = fc.oneof(fc.constantFrom(...corpus), fc.tuple(fc.constantFrom(...corpus), fc.array(edit, { minLength: 1, maxLength: 2 })).map(([q, es]) => mutate(q, es)));
  let checked = 0;
  fc.assert(fc.property(valid, (q) => {
    let printed: string;
    try {
      printed = formatExpr(parseExpr(q));
    } catch (err) {
      if (err instanceof PromQLParseError) return;
      throw err;
    }
    checked++;
    const again = formatExpr(parseExpr(printed));
    if (again !== printed) throw new Error(`${JSON.stringify(q)} prints as ${JSON.stringify(printed)}, which prints as ${JSON.stringify(again)}`);
  }), { numRuns: RUNS, seed: SEED, includeErrorInReport: true });
  t.ok(checked > RUNS / 4, `${checked} parsed queries printed and parsed again`);
});
