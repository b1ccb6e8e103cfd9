import t, { type Test } from 'tap';
import { ParseError } from '../errors.js';
import { formatGoFloat, parseGoFloat } from './float.js';
import { ImportParser } from './import.js';
import { parseExposition, type ParseOptions } from './parser.js';
import { ExpositionReader } from './reader.js';

/** Asserts a ParseError at line:column whose message matches `re`. */
function failsAt(t: Test, text: string, opts: ParseOptions, line: number, column: number, re: RegExp): void {
  try {
    parseExposition(text, opts);
  } catch (err) {
    t.type(err, ParseError);
    t.same((err as ParseError).position, { line, column }, (err as Error).message);
    t.match((err as Error).message, re);
    return;
  }
  t.fail(`expected a ParseError for ${JSON.stringify(text)}`);
}
const OM: ParseOptions = { format: 'openmetrics' };

t.test('text format: samples, labels, escapes, timestamps, metadata', async (t) => {
  const exp = parseExposition([
    '# HELP http_requests_total The total number of HTTP requests.',
    '# TYPE http_requests_total counter',
    'http_requests_total{method="post",code="200"} 1027 1395066363000',
    'http_requests_total{method="post",code="400"}    3 1395066363000',
    '',
    '# a free comment',
    'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
    'metric_without_timestamp_and_labels 12.47',
    'something_weird{problem="division by zero"} +Inf',
    '  spaced { a = "1" , b="2", } NaN',
    '# HELP help_escapes a \\\\ b \\n c \\t d',
    'help_escapes -0.5e-3',
  ].join('\n') + '\n');
  t.equal(exp.samples.length, 7);
  t.same(exp.samples[0], { name: 'http_requests_total', labels: { __name__: 'http_requests_total', method: 'post', code: '200' }, value: 1027, timestamp: 1395066363000 });
  t.equal(exp.samples[1]!.value, 3);
  t.same(exp.samples[2]!.labels, { __name__: 'msdos_file_access_time_seconds', path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' });
  t.equal(exp.samples[2]!.value, 1458255915);
  t.equal(exp.samples[3]!.timestamp, undefined);
  t.equal(exp.samples[4]!.value, Infinity);
  t.same(exp.samples[5]!.labels, { __name__: 'spaced', a: '1', b: '2' });
  t.ok(Number.isNaN(exp.samples[5]!.value));
  t.equal(exp.samples[6]!.value, -0.0005);
  t.same(exp.metadata, [
    { metric: 'http_requests_total', type: 'counter', help: 'The total number of HTTP requests.', unit: '' },
    { metric: 'help_escapes', type: 'unknown', help: 'a \\ b \n c \\t d', unit: '' },
  ]);
});

t.test('values follow Go strconv.ParseFloat as Prometheus uses it', async (t) => {
  for (const [s, v] of [['1', 1], ['-1.5', -1.5], ['.5', 0.5], ['5.', 5], ['1E3', 1000], ['1e-3', 0.001], ['+7', 7], ['007', 7],
    ['Inf', Infinity], ['+inf', Infinity], ['-Infinity', -Infinity], ['INF', Infinity], ['nan', NaN], ['NaN', NaN]] as const) {
    t.same(parseGoFloat(s), v, s);
  }
  for (const s of ['0x1A', '0x1p-2', '1_000', '1e', 'e5', '', '+', '.', '+NaN', '-nan', 'infin', '1e400', 'one', '1,5']) t.equal(parseGoFloat(s), undefined, s);
  t.equal(parseGoFloat('1e-400'), 0, 'underflow is zero, as in Go');
});

t.test('floats are written as Go formats them', async (t) => {
  const cases: [number, string][] = [[0, '0'], [1, '1'], [-2, '-2'], [0.1, '0.1'], [12345.67, '12345.67'], [1e6, '1e+06'], [1234567, '1.234567e+06'],
    [1.5e-7, '1.5e-07'], [0.0001, '0.0001'], [0.00001, '1e-05'], [123456, '123456'], [1.7356896e9, '1.7356896e+09'], [1e100, '1e+100'],
    [Infinity, '+Inf'], [-Infinity, '-Inf'], [NaN, 'NaN'], [-0, '-0'], [0.1 + 0.2, '0.30000000000000004'], [5e-324, '5e-324'], [1.7976931348623157e308, '1.7976931348623157e+308']];
  for (const [v, s] of cases) t.equal(formatGoFloat(v), s, String(v));
});

t.test('OpenMetrics: units, timestamps in seconds, exemplars, _created, EOF', async (t) => {
  const exp = parseExposition([
    '# TYPE acme_http_router_request_seconds summary',
    '# UNIT acme_http_router_request_seconds seconds',
    '# HELP acme_http_router_request_seconds Latency though all of ACME\'s HTTP request router \\"quoted\\".',
    'acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32',
    'acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0',
    'acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0',
    '# TYPE foo histogram',
    'foo_bucket{le="0.1"} 8 # {id="abc"} 0.043 1520879607.789',
    'foo_bucket{le="+Inf"} 17 1520879607.789 # {} 1',
    'foo_count 17',
    'foo_sum 324789.3 1520879607.5',
    '# TYPE state stateset',
    'state{state="a"} 1',
    '# TYPE build info',
    'build_info{version="1.0"} 1',
    '# EOF',
  ].join('\n'), OM);
  t.equal(exp.samples.length, 9, '_created is ingested as a sample, as Prometheus 2.42 does');
  t.equal(exp.samples[1]!.value, 807283);
  t.equal(exp.samples[4]!.timestamp, 1520879607789);
  t.equal(exp.samples[5]!.timestamp, undefined);
  t.equal(exp.samples[5]!.value, 17);
  t.equal(exp.samples[6]!.timestamp, 1520879607500);
  t.same(exp.metadata[0], { metric: 'acme_http_router_request_seconds', type: 'summary', unit: 'seconds', help: 'Latency though all of ACME\'s HTTP request router "quoted".' });
  t.same(exp.metadata.map((m) => m.type), ['summary', 'histogram', 'stateset', 'info']);
  t.equal(parseExposition('a 1\n# EOF\n', { contentType: 'application/openmetrics-text; version=1.0.0; charset=utf-8' }).samples.length, 1);
  t.equal(parseExposition('a 1 -1.5\n# EOF', OM).samples[0]!.timestamp, -1500);
});

t.test('malformed text input: errors carry line and column', async (t) => {
  const text: ParseOptions = { format: 'text' };
  failsAt(t, 'ok 1\nfoo{a="1} 2\n', text, 2, 7, /unterminated value of label "a"/);
  failsAt(t, 'foo{a="1"\n', text, 1, 10, /unterminated label set/);
  failsAt(t, 'foo{a="\\t"} 1\n', text, 1, 8, /invalid escape sequence "\\\\t"/);
  failsAt(t, '# TYPE foo counter\n# TYPE foo gauge\nfoo 1\n', text, 2, 8, /second TYPE line for metric "foo"/);
  failsAt(t, '# HELP foo a\n# HELP foo b\n', text, 2, 8, /second HELP line/);
  failsAt(t, 'foo_bucket{le="1"} 1\n# TYPE foo histogram\n', text, 2, 8, /must appear before its samples/);
  failsAt(t, 'foo 1\nbar abc\n', text, 2, 5, /invalid value "abc"/);
  failsAt(t, 'foo 0x10\n', text, 1, 5, /invalid value/);
  failsAt(t, 'foo 1 -5\n', text, 1, 7, /invalid timestamp/);
  failsAt(t, 'foo 1 2 3\n', text, 1, 9, /end of line after the timestamp/);
  failsAt(t, 'foo 1 # {a="b"} 1\n', text, 1, 7, /exemplars are only allowed in OpenMetrics/);
  failsAt(t, '1foo 1\n', text, 1, 1, /invalid metric name/);
  failsAt(t, 'foo{1a="x"} 1\n', text, 1, 5, /invalid label name/);
  failsAt(t, 'foo{a="x",a="y"} 1\n', text, 1, 11, /duplicate label name "a"/);
  failsAt(t, 'foo{__name__="x"} 1\n', text, 1, 5, /duplicate label name "__name__"/);
  failsAt(t, 'foo\n', text, 1, 4, /expected whitespace and a value/);
  failsAt(t, 'foo{a="b"}\n', text, 1, 11, /expected a value/);
  failsAt(t, '# TYPE foo unknown\n', text, 1, 12, /invalid metric type "unknown"/);
  failsAt(t, '# TYPE 9foo counter\n', text, 1, 8, /expected metric name after TYPE/);
  t.equal(parseExposition('foo{a="b"}7\nbar 1').samples.length, 2, 'a value may follow "}" directly; the final newline is optional');
});

t.test('malformed OpenMetrics input: errors carry line and column', async (t) => {
  failsAt(t, 'a 1\n', OM, 2, 1, /does not end with # EOF/);
  failsAt(t, 'a 1', OM, 1, 4, /does not end with # EOF/);
  failsAt(t, 'a 1\n# EOF\nb 2\n', OM, 3, 1, /unexpected data after # EOF/);
  failsAt(t, 'a 1\n\n# EOF\n', OM, 2, 1, /empty lines/);
  failsAt(t, '# random comment\n# EOF\n', OM, 1, 1, /OpenMetrics allows only/);
  failsAt(t, 'a  1\n# EOF\n', OM, 1, 3, /expected a value/);
  failsAt(t, 'a{b="c", d="e"} 1\n# EOF\n', OM, 1, 9, /invalid label name/);
  failsAt(t, 'a 1 NaN\n# EOF\n', OM, 1, 5, /invalid timestamp "NaN"/);
  failsAt(t, 'a 1 # {x="y"} z\n# EOF\n', OM, 1, 15, /invalid exemplar value/);
  failsAt(t, '# TYPE a untyped\n# EOF\n', OM, 1, 10, /invalid metric type/);
  failsAt(t, '# TYPE a_seconds gauge\n# UNIT a_seconds bytes\n# EOF\n', OM, 2, 18, /not a suffix/);
  failsAt(t, '# TYPE a gauge\n# TYPE a gauge\n# EOF\n', OM, 2, 8, /second TYPE/);
  failsAt(t, 'a{b="x\ny"} 1\n# EOF\n', OM, 1, 5, /unterminated value/);
});

t.test('import parser: streaming, cached labels per series key, positions across chunks', async (t) => {
  const seen: [string, Record<string, string>, number, number | undefined][] = [];
  const p = new ImportParser((key, labels, v, ts) => seen.push([key, labels as Record<string, string>, v, ts]));
  const input = '# HELP x y\nnode_cpu_seconds_total{cpu="0",mode="idle"} 12345.67 1735689600000\r\n\nnode_cpu_seconds_total{cpu="0",mode="idle"} 12346 1735689615000\nup 1\nup{a="x y"} -2.5e3 17\nnode_cpu_seconds_total{cpu="0",mode="idle"} NaN 1735689630000\nlast 0.000000000000000001';
  for (let i = 0; i < input.length; i += 7) p.push(input.slice(i, i + 7));
  p.end();
  t.equal(seen.length, 6);
  t.same(seen[0], ['node_cpu_seconds_total{cpu="0",mode="idle"}', { __name__: 'node_cpu_seconds_total', cpu: '0', mode: 'idle' }, 12345.67, 1735689600000]);
  t.equal(seen[1]![1], seen[0]![1], 'the same labels object for the same series text');
  t.equal(seen[4]![1], seen[0]![1]);
  t.same(seen[2], ['up', { __name__: 'up' }, 1, undefined]);
  t.same(seen[3]!.slice(1), [{ __name__: 'up', a: 'x y' }, -2500, 17]);
  t.ok(Number.isNaN(seen[4]![2]));
  t.equal(seen[5]![2], 1e-18);
  t.ok(Object.isFrozen(seen[0]![1]));
  t.equal(p.samples, 6);

  const bad = (text: string, line: number, column: number, re: RegExp) => {
    const q = new ImportParser(() => {});
    try {
      for (let i = 0; i < text.length; i += 3) q.push(text.slice(i, i + 3));
      q.end();
      t.fail('expected an error');
    } catch (err) {
      t.same((err as ParseError).position, { line, column }, (err as Error).message);
      t.match((err as Error).message, re);
    }
  };
  bad('a 1\nb{x="1} 2\n', 2, 5, /unterminated value/);
  bad('a 1\na 2\na x\n', 3, 3, /invalid value "x"/);
  bad('a 1 1.5\n', 1, 5, /invalid timestamp/);
  bad('a{x="1"} 1\na{x="1",x="2"} 1\n', 2, 9, /duplicate label name/);
  bad('a{x="\\q"} 1\n', 1, 6, /invalid escape/);
  bad('a{x="1"}} 1\n', 1, 9, /invalid value "}"/);
});

t.test('the reader leaves the raw series text, value and timestamp of each sample line', async (t) => {
  const r = new ExpositionReader('# HELP a A.\na{x="}",y="\\"q"} 1.5 123\nb 2\n  c {z="1"}3\n', false);
  t.ok(r.next());
  t.equal(r.series(), 'a{x="}",y="\\"q"}');
  t.ok(r.seriesIs('a{x="}",y="\\"q"}'));
  t.notOk(r.seriesIs('a{x="}"'));
  t.equal(r.value, 1.5);
  t.ok(r.hasTimestamp);
  t.equal(r.timestamp, 123);
  t.same(r.labels(), { __name__: 'a', x: '}', y: '"q' });
  t.ok(r.next());
  t.equal(r.series(), 'b');
  t.notOk(r.hasTimestamp);
  t.ok(r.next());
  t.equal(r.series(), 'c {z="1"}');
  t.same(r.labels(), { __name__: 'c', z: '1' });
  t.equal(r.value, 3);
  t.notOk(r.next());
  t.same(r.metadata(), [{ metric: 'a', type: 'unknown', help: 'A.', unit: '' }]);
});

t.test('the reader compares an expected series text first and still checks the rest of the line', async (t) => {
  const r = new ExpositionReader('a{x="1"} 1\na{x="1"}x 2\na{x="1",y="2"} 3\nb 4\nbb 5\n', false);
  t.ok(r.next('a{x="1"}'));
  t.ok(r.matched);
  t.equal(r.value, 1);
  t.throws(() => r.next('a{x="1"}'), /invalid value "x"/);
  t.ok(r.next('a{x="1"}'));
  t.notOk(r.matched, 'a longer label set is another series');
  t.equal(r.series(), 'a{x="1",y="2"}');
  t.ok(r.next('b'));
  t.ok(r.matched);
  t.ok(r.next('b'));
  t.notOk(r.matched, 'a longer name is another series');
  t.equal(r.series(), 'bb');
});

t.test('the reader takes a body as pieces that end at line ends, counting lines across them', async (t) => {
  const r = new ExpositionReader(['a 1\n# TYPE b gauge\n', 'b 2\n', 'c{x="1"} 3\nd x\n'], false);
  const seen: string[] = [];
  t.throws(() => { while (r.next()) seen.push(r.series()); }, { message: /line 5/ });
  t.same(seen, ['a', 'b', 'c{x="1"}']);
  const om = new ExpositionReader(['a 1\n', '# EOF\n'], true);
  t.ok(om.next());
  t.notOk(om.next());
  const late = new ExpositionReader(['a 1\n# EOF\n', 'b 2\n'], true);
  t.ok(late.next());
  t.throws(() => late.next(), /unexpected data after # EOF/);
  const missing = new ExpositionReader(['a 1\n', 'b 2\n'], true);
  missing.next();
  missing.next();
  t.throws(() => missing.next(), /data does not end with # EOF/);
});
