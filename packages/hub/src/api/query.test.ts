import t from 'tap';
import { gunzipSync, inflateSync } from 'node:zlib';
import { Engine } from '../promql/engine.js';
import { MemQueryable } from '../promql/testing/memory.js';
import type { Storage } from '../storage/types.js';
import { parseDurationParam, parseTime } from './params.js';
import { queryRoutes } from './query.js';

function setup(opts: { engine?: Engine; warnings?: () => string[] } = {}) {
  const mem = new MemQueryable();
  for (let i = 0; i <= 10; i++) {
    mem.add({ __name__: 'up', job: 'api', instance: 'a' }, i * 60_000, 1);
    mem.add({ __name__: 'up', job: 'web', instance: 'b' }, i * 60_000, i === 10 ? 0 : 1);
    mem.add({ __name__: 'req_total', job: 'api' }, i * 60_000, i * 60);
  }
  const storage = {
    querier: (a: number, b: number) => mem.querier(a, b),
    metadata: async (metric?: string) => ({ [metric ?? 'up']: [{ type: 'gauge', help: 'Target up.', unit: '' }] }),
    status: async () => ({ headStats: { numSeries: 3 } }),
  } as unknown as Storage;
  const app = queryRoutes({ queryable: mem, storage, engine: opts.engine ?? new Engine(), ...(opts.warnings ? { warnings: opts.warnings } : {}) });
  return app;
}

t.test('instant query answers with Prometheus envelope and string values', async (t) => {
  const app = setup();
  const res = await app.request('/api/v1/query?query=up%7Bjob%3D%22api%22%7D&time=600');
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'application/json');
  t.equal(await res.text(), '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","instance":"a","job":"api"},"value":[600,"1"]}]}}');
});

t.test('form-encoded POST works like GET', async (t) => {
  const app = setup();
  const res = await app.request('/api/v1/query', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'query=sum(rate(req_total%5B5m%5D))&time=2024-01-01T00:00:00Z',
  });
  const body = (await res.json()) as { data: { result: unknown[] } };
  t.equal(res.status, 200);
  t.same(body.data.result, []);
  const res2 = await app.request('/api/v1/query', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'query=sum(rate(req_total%5B5m%5D))&time=600',
  });
  t.same(((await res2.json()) as { data: unknown }).data, { resultType: 'vector', result: [{ metric: {}, value: [600, '1'] }] });
});

t.test('range query returns a matrix; scalars become one unlabeled series', async (t) => {
  const app = setup();
  const res = await app.request('/api/v1/query_range?query=up%7Bjob%3D%22web%22%7D&start=480&end=600&step=1m');
  t.same(await res.json(), {
    status: 'success',
    data: { resultType: 'matrix', result: [{ metric: { __name__: 'up', instance: 'b', job: 'web' }, values: [[480, '1'], [540, '1'], [600, '0']] }] },
  });
  const sc = await app.request('/api/v1/query_range?query=time()&start=0&end=1&step=0.5');
  t.same(((await sc.json()) as { data: unknown }).data, { resultType: 'matrix', result: [{ metric: {}, values: [[0, '0'], [0.5, '0.5'], [1, '1']] }] });
});

t.test('errors map to Prometheus error types and statuses', async (t) => {
  const app = setup();
  const cases: [string, number, string, RegExp][] = [
    ['/api/v1/query?query=sum(&time=1', 400, 'bad_data', /^invalid parameter "query": 1:5: parse error: unclosed left parenthesis$/],
    ['/api/v1/query?query=up&time=yesterday', 400, 'bad_data', /^invalid parameter "time": Invalid time value for 'time': cannot parse "yesterday" to a valid timestamp$/],
    ['/api/v1/query?query=req_total%20%2B%20on()%20group_left%20up&time=600', 422, 'execution', /^found duplicate series for the match group \{\} on the right/],
    ['/api/v1/query?query=up%20*%20on()%20up&time=600', 422, 'execution', /found duplicate series for the match group \{\} on the right hand-side/],
    ['/api/v1/query_range?query=up&start=0&end=100000&step=1', 400, 'bad_data', /^exceeded maximum resolution of 11,000 points per timeseries/],
    ['/api/v1/query_range?query=up&start=0&end=100&step=0', 400, 'bad_data', /zero or negative query resolution step widths are not accepted/],
    ['/api/v1/query_range?query=up&start=100&end=0&step=1', 400, 'bad_data', /end timestamp must not be before start time/],
    ['/api/v1/query_range?query=up%5B5m%5D&start=0&end=100&step=10', 400, 'bad_data', /^invalid expression type "range vector" for range query, must be Scalar or instant Vector$/],
    ['/api/v1/series?start=0', 400, 'bad_data', /^no match\[\] parameter provided$/],
    ['/api/v1/series?match[]=%7Bjob%3D%22%22%7D', 400, 'bad_data', /^invalid parameter "match\[\]": match\[\] must contain at least one non-empty matcher$/],
    ['/api/v1/labels?match[]=%7Bjob%3D%22%22%7D', 400, 'bad_data', /^match\[\] must contain at least one non-empty matcher$/],
    ['/api/v1/series?match[]=rate(up%5B5m%5D)', 400, 'bad_data', /^invalid parameter "match\[\]": 1:5: parse error: unexpected "\("$/],
    ['/api/v1/query_range?query=up&start=abc&end=1&step=1', 400, 'bad_data', /^invalid parameter "start": cannot parse "abc" to a valid timestamp$/],
    ['/api/v1/label/bad-name/values', 400, 'bad_data', /invalid label name/],
  ];
  for (const [url, status, type, msg] of cases) {
    const res = await app.request(url);
    const body = (await res.json()) as { status: string; errorType: string; error: string };
    t.equal(res.status, status, url);
    t.equal(body.status, 'error');
    t.equal(body.errorType, type, url);
    t.match(body.error, msg, url);
  }
});

t.test('unbounded work is refused up front: subquery steps 422, nesting 400, non-RE2 regex 400', async (t) => {
  const app = setup();
  const q = (query: string) => `/api/v1/query?time=600&query=${encodeURIComponent(query)}`;
  const cases: [string, number, string, string | RegExp][] = [
    [q('max_over_time(up[100y:1s])'), 422, 'execution', 'query processing would load too many samples into memory in query execution'],
    [`/api/v1/query_range?start=0&end=600&step=60&query=${encodeURIComponent('max_over_time(up[100y:1s])')}`, 422, 'execution', /too many samples/],
    [q(`${'('.repeat(10_000)}up${')'.repeat(10_000)}`), 400, 'bad_data', /^invalid parameter "query": 1:1001: parse error: expression nests too deeply/],
    [q('up{job=~"(?=a)api"}'), 400, 'bad_data', 'invalid parameter "query": 1:4: parse error: error parsing regexp: invalid or unsupported Perl syntax: `(?=`'],
    [q('up{job=~"(a)\\\\1"}'), 400, 'bad_data', 'invalid parameter "query": 1:4: parse error: error parsing regexp: invalid escape sequence: `\\1`'],
    [q('label_replace(up, "x", "$1", "job", "(?=a)")'), 422, 'execution', 'invalid regular expression in label_replace(): (?=a)'],
    [`/api/v1/series?match[]=${encodeURIComponent('up{job=~"(?<=a)b"}')}`, 400, 'bad_data', /error parsing regexp: invalid or unsupported Perl syntax: `\(\?<`/],
  ];
  for (const [url, status, type, msg] of cases) {
    const started = Date.now();
    const res = await app.request(url);
    const body = (await res.json()) as { errorType: string; error: string };
    t.equal(res.status, status, url.slice(0, 80));
    t.equal(body.errorType, type);
    if (typeof msg === 'string') t.equal(body.error, msg);
    else t.match(body.error, msg);
    t.ok(Date.now() - started < 2_000, 'answered at once');
  }
  // the backtracking-prone patterns answer quickly
  for (const query of ['{__name__=~"(.*)*x"}', 'label_replace(up, "x", "$1", "job", "(a+)+b")']) {
    const res = await app.request(q(query));
    t.equal(res.status, 200, query);
  }
});

t.test('a query past its timeout answers 503 timeout', async (t) => {
  const app = setup({ engine: new Engine({ timeoutMs: -1 }) });
  const res = await app.request('/api/v1/query?query=up&time=600');
  t.equal(res.status, 503);
  t.equal(((await res.json()) as { errorType: string }).errorType, 'timeout');
});

t.test('too many samples is an execution error', async (t) => {
  const app = setup({ engine: new Engine({ maxSamples: 5 }) });
  const res = await app.request('/api/v1/query?query=up&time=600');
  t.equal(res.status, 422);
  t.match(((await res.json()) as { error: string }).error, /too many samples/);
});

t.test('series, labels and label values honour match[], start, end and limit', async (t) => {
  const app = setup();
  const series = await app.request('/api/v1/series?match[]=up&match[]=req_total&start=0&end=600');
  t.same(((await series.json()) as { data: unknown }).data, [
    { __name__: 'req_total', job: 'api' },
    { __name__: 'up', instance: 'a', job: 'api' },
    { __name__: 'up', instance: 'b', job: 'web' },
  ]);
  const labels = await app.request('/api/v1/labels?match[]=req_total');
  t.same(((await labels.json()) as { data: unknown }).data, ['__name__', 'job']);
  const all = await app.request('/api/v1/labels');
  t.same(((await all.json()) as { data: unknown }).data, ['__name__', 'instance', 'job']);
  const vals = await app.request('/api/v1/label/job/values?match[]=up');
  t.same(((await vals.json()) as { data: unknown }).data, ['api', 'web']);
  const limited = await app.request('/api/v1/label/__name__/values?limit=1');
  t.same(((await limited.json()) as { data: unknown }).data, ['req_total']);
  const none = await app.request('/api/v1/series?match[]=up&start=100000&end=200000');
  t.same(((await none.json()) as { data: unknown }).data, []);
});

t.test('metadata, tsdb status, format_query and exemplars', async (t) => {
  const app = setup();
  t.same(((await (await app.request('/api/v1/metadata?metric=up')).json()) as { data: unknown }).data, { up: [{ type: 'gauge', help: 'Target up.', unit: '' }] });
  t.same(((await (await app.request('/api/v1/status/tsdb')).json()) as { data: unknown }).data, { headStats: { numSeries: 3 } });
  t.equal(((await (await app.request('/api/v1/format_query?query=sum(x)%20by%20(a)')).json()) as { data: unknown }).data, 'sum by (a) (x)');
  const long = 'histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{job="api",instance=~"a.*"}[5m]))) > on(job) group_left() histogram_quantile(0.5, sum by (le, job) (rate(http_request_duration_seconds_bucket[5m])))';
  const pretty = ((await (await app.request(`/api/v1/format_query?query=${encodeURIComponent(long)}`)).json()) as { data: unknown }).data;
  // byte for byte what Prometheus 2.42 answers
  t.equal(pretty, '  histogram_quantile(\n    0.9,\n    sum by (le) (rate(http_request_duration_seconds_bucket{instance=~"a.*",job="api"}[5m]))\n  )\n> on (job) group_left ()\n  histogram_quantile(0.5, sum by (le, job) (rate(http_request_duration_seconds_bucket[5m])))');
  t.same(((await (await app.request('/api/v1/query_exemplars?query=up')).json()) as { data: unknown }).data, []);
});

t.test('warnings from the hook are added to the envelope', async (t) => {
  const app = setup({ warnings: () => ['datacenter dc1 is behind (watermark 2024-01-01T00:00:00Z)'] });
  const body = (await (await app.request('/api/v1/query?query=up&time=600')).json()) as { warnings: string[] };
  t.same(body.warnings, ['datacenter dc1 is behind (watermark 2024-01-01T00:00:00Z)']);
});

t.test('responses are gzipped when the client asks', async (t) => {
  const app = setup();
  const res = await app.request('/api/v1/query_range?query=up&start=0&end=600&step=1', { headers: { 'accept-encoding': 'gzip' } });
  t.equal(res.headers.get('content-encoding'), 'gzip');
  const body = JSON.parse(gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8')) as { status: string };
  t.equal(body.status, 'success');
});

t.test('compression: deflate when only it is accepted, none for small bodies or q=0, same bytes as uncompressed', async (t) => {
  const app = setup();
  const url = '/api/v1/query_range?query=up&start=0&end=600&step=1';
  const plain = Buffer.from(await (await app.request(url)).arrayBuffer());
  t.ok(plain.length >= 1024, 'a body above the threshold');
  const d = await app.request(url, { headers: { 'accept-encoding': 'deflate' } });
  t.equal(d.headers.get('content-encoding'), 'deflate');
  t.same(inflateSync(Buffer.from(await d.arrayBuffer())), plain);
  const g = await app.request(url, { headers: { 'accept-encoding': 'deflate, gzip' } });
  t.equal(g.headers.get('content-encoding'), 'gzip');
  t.same(gunzipSync(Buffer.from(await g.arrayBuffer())), plain);
  const refused = await app.request(url, { headers: { 'accept-encoding': 'gzip;q=0' } });
  t.equal(refused.headers.get('content-encoding'), null);
  const small = await app.request('/api/v1/query?query=up&time=600', { headers: { 'accept-encoding': 'gzip' } });
  t.equal(small.headers.get('content-encoding'), null);
  t.match(await small.text(), /^\{"status":"success"/);
});

t.test('times and durations parse as Prometheus parses them', async (t) => {
  t.equal(parseTime('1704067200'), 1704067200000);
  t.equal(parseTime('1704067200.123'), 1704067200123);
  t.equal(parseTime('2024-01-01T00:00:00Z'), 1704067200000);
  t.equal(parseTime('2024-01-01T01:00:00.5+01:00'), 1704067200500);
  t.throws(() => parseTime('soon'));
  t.equal(parseDurationParam('15'), 15000);
  t.equal(parseDurationParam('0.5'), 500);
  t.equal(parseDurationParam('1m30s'), 90000);
  t.throws(() => parseDurationParam('5 minutes'));
});

t.test('a regex error reaching the API boundary is a client error', async (t) => {
  const { toApiError } = await import('./errors.js');
  const { compileRegex } = await import('@vigil/common');
  let err: unknown;
  try { compileRegex('(?=x)'); } catch (e) { err = e; }
  t.same(toApiError(err), { status: 400, errorType: 'bad_data', error: 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`' });
});
