/**
 * Fuzz tests of the Pushgateway API (used by hub and agent alike): any path, query and body is
 * answered 200, 202 or 4xx, never 5xx, within a second; a group that a request does not
 * successfully replace keeps its metrics.
 *
 * FUZZ_RUNS scales the number of cases (default 10,000), FUZZ_SEED replays a failure.
 */
import fc from 'fast-check';
import t from 'tap';
import { writeText } from '../exposition/writer.js';
import { encodeBase64Value } from './grouping.js';
import { pushRoutes } from './routes.js';
import { PUSH_FAILURE_TIME_METRIC, PUSH_TIME_METRIC, PushStore } from './store.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
// tap's default of 30 s per file is too short for 10,000 cases on a loaded CI machine
t.setTimeout(300_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261204);
const CASE_LIMIT_MS = 1000;
const PROTOBUF = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

const KEEP_BODY = '# TYPE kept_bytes gauge\nkept_bytes{kind="full"} 1024\nkept_bytes{kind="diff"} 7\n# TYPE kept_total counter\nkept_total 3\n';

/** The keep group's own metrics (without the push time series a failed push updates, as the Pushgateway does). */
function keptText(store: PushStore): string {
  const g = store.groups().find((x) => x.labels.job === 'keep');
  if (!g) return '(no group)';
  return writeText(store.groupFamilies(g).filter((f) => f.name !== PUSH_TIME_METRIC && f.name !== PUSH_FAILURE_TIME_METRIC));
}

const segment = fc.oneof(
  fc.constantFrom('job', 'instance', 'keep', 'a', '__x', '1bad', 'le', 'job@base64', 'x@base64', '', '%2F', '..', '.', '%00', 'ü'),
  fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,6}$/),
  fc.string({ maxLength: 8 }).map((s) => encodeURIComponent(s)),
  fc.string({ maxLength: 8 }).map((s) => encodeBase64Value(s)),
);
const path = fc.tuple(fc.constantFrom('/metrics/job/', '/metrics/job@base64/'), fc.array(segment, { maxLength: 6 }), fc.constantFrom('', '/'))
  .map(([head, segs, tail]) => head + segs.join('/') + tail)
  .filter((p) => !/^\/metrics\/job\/keep(\/|$)/.test(p) && !p.startsWith('/metrics/job@base64/a2VlcA'));
const query = fc.oneof(fc.constant(''), fc.constantFrom('?ttl=1m', '?ttl=', '?ttl=-5s', '?ttl=1y1y', '?ttl=99999999999999999999d', '?ttl=%ZZ'),
  fc.string({ maxLength: 10 }).map((s) => `?ttl=${encodeURIComponent(s)}`));

const textLine = fc.oneof(
  fc.constantFrom('# TYPE x counter', '# TYPE x histogram', '# HELP x a\\nb', 'x 1', 'x_total 2', 'x{le="+Inf"} 1', 'x_bucket{le="1"} 2',
    'x_sum 1', 'x_count NaN', 'x 1 1700000000000', 'kept_bytes{kind="full"} 1', 'x{job="j"} 1', 'x{a="1",a="2"} 1', 'x{__name__="y"} 1',
    '# EOF', 'x{a="\\z"} 1', `x{a="${'v'.repeat(5000)}"} 1`),
  fc.tuple(fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,8}$/), fc.dictionary(fc.stringMatching(/^[a-z_]{1,4}$/), fc.string({ maxLength: 6 }), { maxKeys: 3 }), fc.double())
    .map(([n, l, v]) => `${n}{${Object.entries(l).map(([k, x]) => `${k}=${JSON.stringify(x)}`).join(',')}} ${v}`),
  fc.string({ maxLength: 20 }),
);
const body = fc.oneof(
  fc.array(textLine, { maxLength: 8 }).map((ls) => ls.join('\n') + '\n'),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }),
);
const contentType = fc.option(fc.constantFrom('text/plain; version=0.0.4', 'application/openmetrics-text; version=1.0.0', PROTOBUF, 'application/json', ''), { nil: undefined });
const request = fc.record({ method: fc.constantFrom('PUT', 'POST', 'DELETE'), path, query, body, contentType, toKeep: fc.boolean() });

t.test('garbage pushes: never 5xx, the other groups intact', async (t) => {
  const store = new PushStore({ now: () => 1_700_000_000_000 });
  t.teardown(() => store.close());
  const app = pushRoutes(store);
  t.equal((await app.request('/metrics/job/keep/instance/db1', { method: 'PUT', body: KEEP_BODY })).status, 200);
  let kept = keptText(store);
  const statuses = new Map<number, number>();
  await fc.assert(fc.asyncProperty(request, async (r) => {
    const url = (r.toKeep && r.method !== 'DELETE' ? '/metrics/job/keep/instance/db1' : r.path) + r.query;
    const init: RequestInit = { method: r.method };
    if (r.method !== 'DELETE') init.body = typeof r.body === 'string' ? r.body : Buffer.from(r.body);
    if (r.contentType !== undefined) init.headers = { 'content-type': r.contentType };
    const start = performance.now();
    const res = await app.request(url, init);
    await res.arrayBuffer();
    const ms = performance.now() - start;
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (ms > CASE_LIMIT_MS) throw new Error(`${r.method} ${url} took ${ms.toFixed(0)} ms`);
    if (res.status >= 500 || ![200, 202, 400, 404, 405].includes(res.status)) throw new Error(`${r.method} ${url} answered ${res.status}`);
    const now = keptText(store);
    if (res.status === 200 && url.startsWith('/metrics/job/keep/')) kept = now; // a successful push to it may change it
    else if (now !== kept) throw new Error(`${r.method} ${url} (${res.status}) changed the keep group:\n${kept}---\n${now}`);
  }), { numRuns: RUNS, seed: SEED, includeErrorInReport: true });
  t.ok((statuses.get(400) ?? 0) > 0 && (statuses.get(200) ?? 0) > 0, `answers ${JSON.stringify([...statuses])}`);
});
