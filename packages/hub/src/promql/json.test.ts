import t from 'tap';
import { formatGoFloat } from './format.js';
import { JsonWriter, writeResult } from './json.js';

const text = (w: JsonWriter): string => new TextDecoder().decode(w.result());

function floatText(v: number): string {
  const w = new JsonWriter(4);
  w.goFloat(v);
  return text(w);
}

t.test('floats are written as Go strconv.FormatFloat(v, f, -1)', async (t) => {
  const fixed = [0, 1, -1, 9, 10, 123456789, 0.5, -0.25, 0.1, 0.3, 1.1, 45.125, 1e-7, 1.5e-7, 1e21, 1.7976931348623157e308,
    5e-324, 0.1 + 0.2, 1 / 3, -2 / 3, 999999999999999, 1e15, 1e15 + 0.5, 123456.789012, 0.000001, 0.0000015, NaN, Infinity, -Infinity,
    2 ** 53, 2 ** 53 + 2, 99.99, 1234567.125, 0.00390625];
  for (const v of fixed) t.equal(floatText(v), formatGoFloat(v), String(v));
  // random values of every kind: decimals with few digits, rates, wide magnitudes
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 20000; i++) {
    const kind = i % 4;
    const v = kind === 0 ? Math.round(rnd() * 1e6) / 10 ** Math.floor(rnd() * 8)
      : kind === 1 ? rnd() * 1000
        : kind === 2 ? (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20)
          : -Math.round(rnd() * 1e9) / 1000;
    if (floatText(v) !== formatGoFloat(v)) t.fail(`${v}: ${floatText(v)} != ${formatGoFloat(v)}`);
  }
  t.pass('20000 random values');
});

t.test('strings are escaped as JSON.stringify, non-ASCII as UTF-8', async (t) => {
  for (const s of ['', 'plain', 'quo"te', 'back\\slash', 'new\nline', 'tab\t', 'ctl\u0001', 'é ü 漢字', 'emoji 😀', '<&>', '\u007f']) {
    const w = new JsonWriter(2);
    w.string(s);
    t.equal(text(w), JSON.stringify(s));
  }
});

t.test('a range result is written as Prometheus JSON with grid timestamps formatted once', async (t) => {
  const w = new JsonWriter(8);
  writeResult(w, {
    resultType: 'matrix',
    warnings: [],
    grid: { start: 1500, step: 1000, n: 3 },
    result: [
      { metric: { b: '2', a: 'x"y' }, t: Float64Array.from([1500, 3500]), v: Float64Array.from([1, 0.5]) },
      { metric: {}, t: Float64Array.from([2500]), v: Float64Array.from([NaN]) },
    ],
  });
  const s = text(w);
  t.equal(s, '{"resultType":"matrix","result":[{"metric":{"a":"x\\"y","b":"2"},"values":[[1.5,"1"],[3.5,"0.5"]]},{"metric":{},"values":[[2.5,"NaN"]]}]}');
  t.same(JSON.parse(s).result[0].values, [[1.5, '1'], [3.5, '0.5']]);
});

t.test('vector, scalar and string results', async (t) => {
  const out = (r: Parameters<typeof writeResult>[1]): string => { const w = new JsonWriter(); writeResult(w, r); return text(w); };
  t.equal(out({ resultType: 'scalar', warnings: [], result: { t: 1000, v: -Infinity } }), '{"resultType":"scalar","result":[1,"-Inf"]}');
  t.equal(out({ resultType: 'string', warnings: [], result: { t: 1001, v: 'a"b' } }), '{"resultType":"string","result":[1.001,"a\\"b"]}');
  t.equal(out({ resultType: 'vector', warnings: [], result: [{ metric: { __name__: 'up' }, t: 0, v: 1 }] }),
    '{"resultType":"vector","result":[{"metric":{"__name__":"up"},"value":[0,"1"]}]}');
});
